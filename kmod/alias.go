package kmod

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// Aliases maps device modaliases to module names, from modules.alias:
// "alias PATTERN MODULE" lines whose patterns are shell globs, as
// modprobe matches them.
type Aliases struct {
	exact map[string][]string // patterns without wildcards
	globs []alias             // the rest, in file order
}

type alias struct {
	pattern, module string
}

// ParseAlias reads modules.alias text. Errors name the line.
func ParseAlias(r io.Reader) (*Aliases, error) {
	a := &Aliases{exact: map[string][]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "alias" {
			return nil, fmt.Errorf("modules.alias:%d: want \"alias PATTERN MODULE\", got %q", n, line)
		}
		if _, err := path.Match(f[1], ""); err != nil {
			return nil, fmt.Errorf("modules.alias:%d: bad pattern %q: %w", n, f[1], err)
		}
		mod := Name(f[2])
		if strings.ContainsAny(f[1], "*?[") {
			a.globs = append(a.globs, alias{f[1], mod})
		} else {
			a.exact[f[1]] = append(a.exact[f[1]], mod)
		}
	}
	return a, sc.Err()
}

// Match returns the modules whose alias patterns match modalias, sorted
// and without repeats.
func (a *Aliases) Match(modalias string) []string {
	seen := map[string]bool{}
	for _, m := range a.exact[modalias] {
		seen[m] = true
	}
	for _, g := range a.globs {
		if seen[g.module] {
			continue
		}
		if ok, _ := path.Match(g.pattern, modalias); ok {
			seen[g.module] = true
		}
	}
	out := make([]string, 0, len(seen))
	for m := range seen {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

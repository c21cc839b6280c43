package declared

import (
	"fmt"
	"sort"
	"strings"
)

// header opens the file the image carries.
const header = `# What the Debian packages of this image declare, as unit resources:
# written by unit image build from sysusers.d, tmpfiles.d and the postinst
# idioms (docs/debian.md). A table of the same name in /etc/unit replaces
# the one here whole. "from" is where each was declared.
`

func (g *gatherer) result() *Result {
	var b strings.Builder
	b.WriteString(header)
	n := 0
	for _, name := range sorted(g.groups) {
		gr := g.groups[name]
		fmt.Fprintf(&b, "\n[group.%s]\ngid = %d\nfrom = %s\n", quote(name), gr.gid, quote(gr.from.String()))
		n++
	}
	for _, name := range sorted(g.users) {
		u := g.users[name]
		fmt.Fprintf(&b, "\n[user.%s]\nuid = %d\n", quote(name), u.uid)
		kv(&b, "group", u.group)
		if len(u.supplemental) > 0 {
			groups := sorted(u.supplemental)
			q := make([]string, len(groups))
			for i, s := range groups {
				q[i] = quote(s)
			}
			fmt.Fprintf(&b, "groups = [%s]\n", strings.Join(q, ", "))
		}
		kv(&b, "home", u.home)
		kv(&b, "shell", u.shell)
		kv(&b, "comment", u.gecos)
		fmt.Fprintf(&b, "from = %s\n", quote(u.from.String()))
		n++
	}
	for _, name := range sorted(g.paths) {
		p := g.paths[name]
		fmt.Fprintf(&b, "\n[%s.%s]\n", p.kind, quote(name))
		kv(&b, "target", p.target)
		kv(&b, "mode", p.mode)
		kv(&b, "owner", p.owner)
		kv(&b, "group", p.group)
		kv(&b, "age", p.age)
		fmt.Fprintf(&b, "from = %s\n", quote(p.from.String()))
		n++
	}
	sort.SliceStable(g.notes, func(i, j int) bool {
		a, c := g.notes[i].Pos, g.notes[j].Pos
		if a.File != c.File {
			return a.File < c.File
		}
		return a.Line < c.Line
	})
	return &Result{TOML: []byte(b.String()), Notes: g.notes, Resources: n}
}

func kv(b *strings.Builder, key, v string) {
	if v != "" {
		fmt.Fprintf(b, "%s = %s\n", key, quote(v))
	}
}

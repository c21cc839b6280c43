package image

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/unit-os/unit/kmod"
)

// moduleSet is the part of a kernel's module tree an image carries.
type moduleSet struct {
	Names   []string // included modules, dependencies first
	Entries []entry  // .ko files and metadata under lib/modules/RELEASE
	Size    int64    // bytes of .ko files, uncompressed
}

// selectModules resolves names (and their dependencies) against the
// kernel's modules.dep under dir and returns what to put in the image under
// lib/modules/RELEASE: the .ko files at their usual paths, a modules.dep
// covering exactly those, and modules.builtin and a filtered modules.alias
// when the kernel has them. Built-in modules need no file and are skipped.
func selectModules(dir, release string, names []string) (*moduleSet, error) {
	depText, err := os.ReadFile(filepath.Join(dir, "modules.dep"))
	if err != nil {
		return nil, err
	}
	dep, err := kmod.ParseDep(bytes.NewReader(depText))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	builtinText, err := os.ReadFile(filepath.Join(dir, "modules.builtin"))
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	mods, err := dep.Closure(names, kmod.ParseBuiltin(bytes.NewReader(builtinText)))
	if err != nil {
		return nil, err
	}

	base := path.Join("lib/modules", release)
	set := &moduleSet{}
	included := map[string]bool{}
	for _, m := range mods {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(m.Path)))
		if err != nil {
			return nil, fmt.Errorf("module %s: %w", m.Name, err)
		}
		set.Names = append(set.Names, m.Name)
		set.Entries = append(set.Entries, entry{Name: path.Join(base, m.Path), Mode: 0o644, Data: data})
		set.Size += int64(len(data))
		included[m.Name] = true
	}
	var subset bytes.Buffer
	if err := kmod.Format(&subset, mods); err != nil {
		return nil, err
	}
	set.Entries = append(set.Entries, entry{Name: path.Join(base, "modules.dep"), Mode: 0o644, Data: subset.Bytes()})
	if builtinText != nil {
		set.Entries = append(set.Entries, entry{Name: path.Join(base, "modules.builtin"), Mode: 0o644, Data: builtinText})
	}
	aliasText, err := os.ReadFile(filepath.Join(dir, "modules.alias"))
	switch {
	case err == nil:
		set.Entries = append(set.Entries, entry{Name: path.Join(base, "modules.alias"), Mode: 0o644, Data: filterAliases(aliasText, included)})
	case !os.IsNotExist(err):
		return nil, err
	}
	return set, nil
}

// filterAliases keeps the "alias PATTERN MODULE" lines (and comments) of
// modules.alias whose module is in the image: an alias for a module that
// is not there could only fail to load.
func filterAliases(text []byte, included map[string]bool) []byte {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if strings.HasPrefix(line, "#") || (len(f) == 3 && f[0] == "alias" && included[kmod.Name(f[2])]) {
			out.WriteString(line + "\n")
		}
	}
	return out.Bytes()
}

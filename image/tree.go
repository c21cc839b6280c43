package image

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// tree is a set of entries in the order an archive stores them: paths
// cleaned and relative, missing parent directories added (0755), sorted so
// that a parent comes before its children. Both the initramfs (cpio) and
// the root file system (tar into mksquashfs) are written from one, so the
// two formats hold the same files the same way.
type tree struct {
	Entries []entry
	// Subdirs counts the subdirectories of each directory (for nlink).
	Subdirs map[string]uint32
}

// newTree normalises entries. The result depends only on the set of
// entries, not their order; a path given twice is an error, and so is a
// path under something that is not a directory.
func newTree(entries []entry) (*tree, error) {
	byName := map[string]entry{}
	for _, e := range entries {
		name := strings.TrimPrefix(path.Clean("/"+e.Name), "/")
		if name == "" {
			return nil, fmt.Errorf("empty path")
		}
		if _, dup := byName[name]; dup {
			return nil, fmt.Errorf("%s: added twice", name)
		}
		e.Name = name
		byName[name] = e
	}
	for name := range byName {
		for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
			if p, ok := byName[dir]; ok {
				if !p.Mode.IsDir() {
					return nil, fmt.Errorf("%s: parent %s is not a directory", name, dir)
				}
				continue
			}
			byName[dir] = entry{Name: dir, Mode: fs.ModeDir | 0o755}
		}
	}
	names := make([]string, 0, len(byName))
	t := &tree{Subdirs: map[string]uint32{}}
	for name, e := range byName {
		names = append(names, name)
		if e.Mode.IsDir() {
			t.Subdirs[path.Dir(name)]++
		}
	}
	// A prefix sorts before its extensions, so parents come before children.
	sort.Strings(names)
	for _, n := range names {
		e := byName[n]
		if !e.Mode.IsRegular() && e.Mode&fs.ModeSymlink == 0 && len(e.Data) > 0 {
			return nil, fmt.Errorf("%s: only files and symlinks carry data", n)
		}
		t.Entries = append(t.Entries, e)
	}
	return t, nil
}

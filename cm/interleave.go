package cm

import "path/filepath"

// interleaveDirs reorders ids so that consecutive ones lie in different
// directories where it can: creating a file takes its directory's lock, so
// workers that create in the same directory wait on each other (1,000 new
// files in ten directories: about a third faster on two CPUs). Order within
// a directory, and of ids without a path, is kept; only independent ids
// are passed in, so the order is free.
func interleaveDirs(p *plan, ids []string) []string {
	var dirs []string
	byDir := map[string][]string{}
	for _, id := range ids {
		d := ""
		if r, ok := p.res[id].(pathed); ok {
			d = filepath.Dir(r.Path())
		}
		if _, ok := byDir[d]; !ok {
			dirs = append(dirs, d)
		}
		byDir[d] = append(byDir[d], id)
	}
	if len(dirs) < 2 {
		return ids
	}
	out := make([]string, 0, len(ids))
	for len(out) < len(ids) {
		for _, d := range dirs {
			if q := byDir[d]; len(q) > 0 {
				out = append(out, q[0])
				byDir[d] = q[1:]
			}
		}
	}
	return out
}

package config

import (
	"fmt"
	"path/filepath"
)

// validateRefs checks what spans resources, once every file is merged:
// each kind's references (requires, notify, sources), then dependency
// cycles.
func validateRefs(c *Config) Errors {
	var errs Errors
	for _, k := range rows().kinds {
		errs = append(errs, k.checkRefs(c)...)
	}
	errs = append(errs, samePath(c)...)
	errs = append(errs, serviceCycle(c)...)
	return append(errs, edgeCycle(c)...)
}

// samePath: a file, a dir and a link are each a whole path; two of them on
// one path would undo each other on every apply.
func samePath(c *Config) Errors {
	if !pathsCollide(c) {
		return nil
	}
	first := map[string]*Meta{}
	var metas []*Meta
	for _, f := range All[File](c) {
		metas = append(metas, &f.Meta)
	}
	for _, d := range All[Dir](c) {
		metas = append(metas, &d.Meta)
	}
	for _, l := range All[Link](c) {
		metas = append(metas, &l.Meta)
	}
	var errs Errors
	for _, m := range metas {
		p := filepath.Clean(m.Name)
		if prev, ok := first[p]; ok {
			errs = append(errs, Error{m.Pos, fmt.Sprintf("%s and %s (at %s) are the same path: keep one", m.ID(), prev.ID(), prev.Pos)})
			continue
		}
		first[p] = m
	}
	return errs
}

// pathsCollide reports whether two files, dirs or links share a path, in
// one pass in no order: samePath, which sorts to report each collision
// the same way every time, runs only when one does.
func pathsCollide(c *Config) bool {
	seen := make(map[string]struct{}, len(c.Files)+len(c.Dirs)+len(c.Links))
	collide := func(name string) bool {
		p := filepath.Clean(name)
		if _, ok := seen[p]; ok {
			return true
		}
		seen[p] = struct{}{}
		return false
	}
	for name := range c.Files {
		if collide(name) {
			return true
		}
	}
	for name := range c.Dirs {
		if collide(name) {
			return true
		}
	}
	for name := range c.Links {
		if collide(name) {
			return true
		}
	}
	return false
}

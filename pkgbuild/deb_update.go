package pkgbuild

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

// Move is one change pkg update made to a lock: Old "" is a package that
// joined the closure, New "" one that left it.
type Move struct {
	Lock     string // the lock file
	Package  string
	Old, New string // versions
}

func (m Move) String() string {
	switch {
	case m.Old == "":
		return fmt.Sprintf("%s: %s (new) %s", m.Lock, m.Package, m.New)
	case m.New == "":
		return fmt.Sprintf("%s: %s %s (gone)", m.Lock, m.Package, m.Old)
	}
	return fmt.Sprintf("%s: %s %s -> %s", m.Lock, m.Package, m.Old, m.New)
}

// Update re-resolves the deb closure of each recipe file with apt now and
// rewrites its lock (atomically), returning what moved. A recipe without
// a deb source with deps is an error: it has nothing to update. A lock that
// no longer parses is replaced, since updating is how it is repaired.
func (b *Builder) Update(ctx context.Context, files []string) ([]Move, error) {
	var moves []Move
	var errs []error
	for _, f := range files {
		r, err := ParseFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		i := r.debClosureSource()
		if i < 0 {
			errs = append(errs, fmt.Errorf("%s: no deb source with deps: nothing to update", f))
			continue
		}
		path := LockPath(r.File)
		old, _ := readLock(path, r.Sources[i])
		l, err := b.resolveLock(ctx, r.Sources[i])
		if err != nil {
			errs = append(errs, r.errorf([]string{"source", fmt.Sprint(i)}, "source %d (deb): %v", i+1, err))
			continue
		}
		moved := diffLocks(path, old, l)
		if len(moved) == 0 && old != nil && old.Resolved != nil {
			// Nothing moved: the old time still finds every pin in a
			// snapshot archive, and the lock stays as it was.
			l.Resolved = old.Resolved
		}
		if err := writeLock(path, l); err != nil {
			errs = append(errs, err)
			continue
		}
		moves = append(moves, moved...)
	}
	return moves, errors.Join(errs...)
}

// diffLocks lists the packages whose pinned version differs, by name.
func diffLocks(path string, old, cur *Lock) []Move {
	was, now := map[string]string{}, map[string]string{}
	if old != nil {
		for _, d := range old.Debs {
			was[d.Package] = d.Version
		}
	}
	for _, d := range cur.Debs {
		now[d.Package] = d.Version
	}
	var out []Move
	for n, v := range now {
		if was[n] != v {
			out = append(out, Move{Lock: path, Package: n, Old: was[n], New: v})
		}
	}
	for n, v := range was {
		if _, ok := now[n]; !ok {
			out = append(out, Move{Lock: path, Package: n, Old: v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Package < out[j].Package })
	return out
}

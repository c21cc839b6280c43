package pkgbuild

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"
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

// Update re-resolves the deb sources of each recipe file with apt now (the
// closure of the one with deps, the one .deb of each without) and
// rewrites its lock (atomically), returning what moved. A recipe without a
// deb source is an error: it has nothing to update. A lock that no longer
// parses is replaced, since updating is how it is repaired.
func (b *Builder) Update(ctx context.Context, files []string) ([]Move, error) {
	var moves []Move
	var errs []error
	for _, f := range files {
		r, err := ParseFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		path := LockPath(r.File)
		old, _ := decodeLockFile(path)
		l, err := b.resolveAll(ctx, r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		moved := diffLocks(path, old, l)
		if len(moved) == 0 && old != nil && old.Resolved != nil {
			// Nothing moved: the old time still finds every pin in a
			// snapshot archive, and the lock stays as it was.
			l.Resolved = old.Resolved
		}
		keepPinTimes(old, l)
		if err := writeLock(path, sortPins(l)); err != nil {
			errs = append(errs, err)
			continue
		}
		moves = append(moves, moved...)
	}
	return moves, errors.Join(errs...)
}

// resolveAll asks apt for every deb source of r now: the lock it should have.
func (b *Builder) resolveAll(ctx context.Context, r *Recipe) (*Lock, error) {
	l := &Lock{}
	n := 0
	for i, s := range r.Sources {
		if s.Deb == "" {
			continue
		}
		n++
		var err error
		if s.WithDeps() {
			var c *Lock
			if c, err = b.resolveLock(ctx, s); err == nil {
				c.Pins = l.Pins
				l = c
			}
		} else {
			var d DebInfo
			if d, err = b.resolvePin(ctx, s); err == nil {
				now := time.Now().UTC().Truncate(time.Second)
				l.Pins = append(l.Pins, Pin{Deb: s.Deb, Via: s.Via, Resolved: &now, DebInfo: d})
			}
		}
		if err != nil {
			return nil, r.errorf([]string{"source", fmt.Sprint(i)}, "source %d (deb): %v", i+1, err)
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: no deb source: nothing to update", r.File)
	}
	return l, nil
}

// diffLocks lists the packages whose pinned version differs, by name.
func diffLocks(path string, old, cur *Lock) []Move {
	was, now := map[string]string{}, map[string]string{}
	if old != nil {
		for _, d := range old.Debs {
			was[d.Package] = d.Version
		}
		for _, p := range old.Pins {
			was[p.Package] = p.Version
		}
	}
	for _, d := range cur.Debs {
		now[d.Package] = d.Version
	}
	for _, p := range cur.Pins {
		now[p.Package] = p.Version
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

// UpdateStale re-pins only the recipes among files whose lock pins a .deb
// no place serves any more (Stale), and returns them with what moved:
// how a build from committed locks survives the archive dropping a pin.
func (b *Builder) UpdateStale(ctx context.Context, files []string) (stale []string, moves []Move, err error) {
	if stale, err = b.Stale(ctx, files); err != nil || len(stale) == 0 {
		return stale, nil, err
	}
	moves, err = b.Update(ctx, stale)
	return stale, moves, err
}

// keepPinTimes gives each pin of cur that pins the same .deb as in old
// old's resolution time, so an update that moved nothing rewrites nothing.
func keepPinTimes(old, cur *Lock) {
	if old == nil {
		return
	}
	for i := range cur.Pins {
		for _, o := range old.Pins {
			if c := &cur.Pins[i]; o.Deb == c.Deb && o.Via == c.Via && o.SHA256 == c.SHA256 && o.Resolved != nil {
				c.Resolved = o.Resolved
			}
		}
	}
}

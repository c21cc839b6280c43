package pkgbuild

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"time"

	"github.com/unit-os/unit/config"
)

// Pin is a deb source with deps = false as the recipe's lock pins it: the
// recipe's deb (a name, or with via a glob) and the one .deb apt resolved
// it to. A build with the pin asks apt nothing, so a warm build of the
// kernel (via its metapackage) spawns no apt process; unit pkg update
// re-resolves it.
type Pin struct {
	Deb string `toml:"deb"`
	Via string `toml:"via,omitempty"`
	// Resolved is when apt resolved this pin (a snapshot archive is asked
	// at that time); a pin added after the closure has its own.
	Resolved *time.Time `toml:"resolved,omitempty"`
	DebInfo
}

// readPins reads the pins of a lock file, checked; no file is no pins.
func readPins(file string) ([]Pin, error) {
	l, err := decodeLockFile(file)
	if l == nil || err != nil {
		return nil, err
	}
	for i := range l.Pins {
		if p := &l.Pins[i]; p.Resolved != nil {
			p.DebInfo.Resolved = p.Resolved.UTC()
		}
	}
	return l.Pins, nil
}

// decodeLockFile reads a whole lock file (closure and pins) strictly and
// checks each pin; the closure is checked by readLock against the recipe.
// No file is (nil, nil).
func decodeLockFile(file string) (*Lock, error) {
	l, data, err := decodeLock(file)
	if l == nil || err != nil {
		return nil, err
	}
	idx := config.IndexLines(data)
	for i := range l.Pins {
		p := &l.Pins[i]
		err := p.check()
		if err == nil && p.Deb == "" {
			err = errors.New("pin without deb (the recipe's deb source)")
		}
		if err != nil {
			return nil, config.Error{Pos: config.Pos{File: file, Line: max(idx.Line("pin", strconv.Itoa(i)), 1)}, Msg: err.Error()}
		}
		p.Depends = nil // one .deb alone: its dependencies are not pinned
	}
	return l, nil
}

// pinFor finds the pin of deb source s (deps = false) among pins.
func pinFor(pins []Pin, s Source) *Pin {
	for i := range pins {
		if pins[i].Deb == s.Deb && pins[i].Via == s.Via {
			return &pins[i]
		}
	}
	return nil
}

// checkPin says whether pin p still answers source s: the package the
// glob asks for, the version and sha256 the recipe names.
func checkPin(p *Pin, s Source) error {
	if s.Via != "" {
		if ok, _ := path.Match(s.Deb, p.Package); !ok {
			return fmt.Errorf("lock pins %s, which does not match %q (run unit pkg update)", p.Package, s.Deb)
		}
	} else if p.Package != s.Deb {
		return fmt.Errorf("lock pins %s for deb %q (run unit pkg update)", p.Package, s.Deb)
	}
	if s.Version != Candidate && s.Version != "" && p.Version != s.Version {
		return fmt.Errorf("lock pins %s %s, the recipe asks for %s (run unit pkg update)", p.Package, p.Version, s.Version)
	}
	if s.SHA256 != "" && p.SHA256 != s.SHA256 {
		return fmt.Errorf("lock pins %s with sha256 %s, the recipe says %s (run unit pkg update)", p.Package, p.SHA256, s.SHA256)
	}
	return nil
}

// debPin returns the .deb that r's source i (a deb source with deps =
// false) stands for: its pin in r's lock, or, when the lock has none yet,
// what apt resolves now, added to the lock first so that this build and
// every later one read the same values.
func (b *Builder) debPin(ctx context.Context, r *Recipe, i int) (DebInfo, error) {
	s, file := r.Sources[i], LockPath(r.File)
	pins, err := readPins(file)
	if err != nil {
		return DebInfo{}, err
	}
	if p := pinFor(pins, s); p != nil {
		return p.DebInfo, checkPin(p, s)
	}
	d, err := b.resolvePin(ctx, s)
	if err != nil {
		return DebInfo{}, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	if err := editLock(file, func(l *Lock) { l.Pins = append(l.Pins, Pin{Deb: s.Deb, Via: s.Via, Resolved: &now, DebInfo: d}) }); err != nil {
		return DebInfo{}, err
	}
	b.say(r.Name, "pinned %s %s in %s", d.Package, d.Version, file)
	if pins, err = readPins(file); err != nil {
		return DebInfo{}, err
	}
	if p := pinFor(pins, s); p != nil {
		return p.DebInfo, nil
	}
	return DebInfo{}, fmt.Errorf("%s: the pin of %s just written is not there", file, s.Deb)
}

// resolvePin asks apt which one .deb source s means now.
func (b *Builder) resolvePin(ctx context.Context, s Source) (DebInfo, error) {
	b.aptMu.Lock()
	defer b.aptMu.Unlock()
	return b.resolveDeb(ctx, s)
}

// editLock rewrites a lock file (atomically) with change applied to what
// it holds now; no file is an empty lock.
func editLock(file string, change func(*Lock)) error {
	l, err := decodeLockFile(file)
	if err != nil {
		return err
	}
	if l == nil {
		l = &Lock{}
	}
	change(l)
	return writeLock(file, sortPins(l))
}

// sortPins orders a lock's pins by deb and via, so a rewrite is stable.
func sortPins(l *Lock) *Lock {
	sort.Slice(l.Pins, func(i, j int) bool {
		a, b := l.Pins[i], l.Pins[j]
		return a.Deb < b.Deb || a.Deb == b.Deb && a.Via < b.Via
	})
	return l
}

// lockedDebs are the .debs r's lock pins for r as it is now: the
// closure of its deb source with deps and one per deb source without.
// Sources the lock does not pin yet are left out.
func lockedDebs(r *Recipe) ([]DebInfo, error) {
	file := LockPath(r.File)
	var debs []DebInfo
	if i := r.debClosureSource(); i >= 0 {
		l, err := readLock(file, r.Sources[i])
		if err != nil {
			return nil, err
		}
		if l != nil {
			debs = append(debs, l.Debs...)
		}
	}
	pins, err := readPins(file)
	if err != nil {
		return nil, err
	}
	for _, s := range r.Sources {
		if s.Deb == "" || s.WithDeps() {
			continue
		}
		if p := pinFor(pins, s); p != nil {
			debs = append(debs, p.DebInfo)
		}
	}
	return debs, nil
}

package pkgbuild

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/safepath"
)

// Lock pins a recipe's deb closure: every .deb apt resolved, with its
// version and sha256. A build with a lock never asks apt to resolve again;
// unit pkg update rewrites it.
type Lock struct {
	Package string `toml:"package,omitempty"` // the recipe's deb, as the recipe names it
	Top     string `toml:"top,omitempty"`     // the closure package that is it (the same, unless virtual)
	// Resolved is when apt resolved the lock: the time a snapshot archive
	// is asked at for a pin the mirror dropped. Absent in older locks.
	Resolved *time.Time `toml:"resolved,omitempty"`
	// Recommends is the recipe's recommends as resolved: true, a list of
	// names, or absent for none.
	Recommends any       `toml:"recommends,omitempty"`
	Debs       []DebInfo `toml:"deb,omitempty"`
	// Pins are the recipe's deb sources with deps = false, one .deb each
	// (deb_pin.go); the closure above is absent when it has none.
	Pins []Pin `toml:"pin,omitempty"`
}

// LockPath is the lock file of a recipe: beside it, .toml replaced by .lock.
func LockPath(recipeFile string) string {
	return strings.TrimSuffix(recipeFile, ".toml") + ".lock"
}

// top returns the lock's entry for the recipe's package.
func (l *Lock) top() *DebInfo {
	for i := range l.Debs {
		if l.Debs[i].Package == l.Top {
			return &l.Debs[i]
		}
	}
	return nil
}

// readLock reads and checks the lock of r's deb source s; a missing file
// is (nil, nil). Every problem is an error at its file:line.
func readLock(path string, s Source) (*Lock, error) {
	l, data, err := decodeLock(path)
	if l == nil || err != nil {
		return nil, err
	}
	idx := config.IndexLines(data)
	at := func(keys ...string) config.Pos {
		line := idx.Line(keys...)
		if line == 0 {
			line = 1
		}
		return config.Pos{File: path, Line: line}
	}
	if l.Package == "" && len(l.Debs) == 0 {
		return nil, nil // only pins (deb_pin.go): the closure is not pinned yet
	}
	if l.Package != s.Deb {
		return nil, config.Error{Pos: at("package"), Msg: fmt.Sprintf("lock is for package %q, the recipe's deb is %q (run unit pkg update)", l.Package, s.Deb)}
	}
	if all, only, err := s.recommends(); err == nil && !sameRecommends(l.Recommends, all, only) {
		return nil, config.Error{Pos: at("package"), Msg: fmt.Sprintf("lock was resolved with recommends = %s, the recipe asks %s (run unit pkg update)",
			showRecommends(l.Recommends), showRecommends(recommendsKey(all, only)))}
	}
	seen := map[string]bool{}
	for i := range l.Debs {
		d := &l.Debs[i]
		if err := d.check(); err != nil {
			return nil, config.Error{Pos: at("deb", strconv.Itoa(i)), Msg: err.Error()}
		}
		if l.Resolved != nil {
			d.Resolved = l.Resolved.UTC()
		}
		if d.Depends == nil {
			d.Depends = []string{} // one encoding whether the lock says [] or nothing
		}
		if seen[d.Package] {
			return nil, config.Error{Pos: at("deb", strconv.Itoa(i)), Msg: fmt.Sprintf("package %s pinned twice", d.Package)}
		}
		seen[d.Package] = true
	}
	for i, d := range l.Debs {
		for _, dep := range d.Depends {
			if !seen[dep] {
				return nil, config.Error{Pos: at("deb", strconv.Itoa(i)), Msg: fmt.Sprintf("%s depends on %s, which the lock does not pin", d.Package, dep)}
			}
		}
		for _, rec := range d.Recommends {
			if !seen[rec] {
				return nil, config.Error{Pos: at("deb", strconv.Itoa(i)), Msg: fmt.Sprintf("%s recommends %s, which the lock does not pin", d.Package, rec)}
			}
		}
	}
	top := l.top()
	if top == nil {
		return nil, config.Error{Pos: at("top"), Msg: fmt.Sprintf("top package %q is not pinned in the lock", l.Top)}
	}
	if s.Version != Candidate && s.Version != "" && top.Version != s.Version {
		return nil, config.Error{Pos: at("deb", "0"), Msg: fmt.Sprintf("lock pins %s %s, the recipe asks for %s (run unit pkg update)", top.Package, top.Version, s.Version)}
	}
	if s.SHA256 != "" && top.SHA256 != s.SHA256 {
		return nil, config.Error{Pos: at("top"), Msg: fmt.Sprintf("lock pins %s with sha256 %s, the recipe says %s (run unit pkg update)", top.Package, top.SHA256, s.SHA256)}
	}
	return l, nil
}

// decodeLock reads a lock file strictly (an unknown key is an error at
// its line) and returns it with its bytes, for the checks' line numbers;
// no file is (nil, nil, nil).
func decodeLock(path string) (*Lock, []byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("lock: %w", err)
	}
	var l Lock
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		var strict *toml.StrictMissingError
		var derr *toml.DecodeError
		switch {
		case errors.As(err, &strict) && len(strict.Errors) > 0:
			line, _ := strict.Errors[0].Position()
			return nil, nil, config.Error{Pos: config.Pos{File: path, Line: line},
				Msg: fmt.Sprintf("unknown key %q", strings.Join(strict.Errors[0].Key(), "."))}
		case errors.As(err, &derr):
			line, _ := derr.Position()
			return nil, nil, config.Error{Pos: config.Pos{File: path, Line: line}, Msg: derr.Error()}
		}
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return &l, data, nil
}

// writeLock writes l to path atomically (temp file + rename), sorted.
func writeLock(path string, l *Lock) error {
	sort.Slice(l.Debs, func(i, j int) bool { return l.Debs[i].Package < l.Debs[j].Package })
	var buf bytes.Buffer
	what := "the .debs of " + l.Package + "'s closure"
	if l.Package == "" {
		what = "the recipe's .debs"
	}
	fmt.Fprintf(&buf, "# Pinned by unit pkg: %s. Builds obey it;\n# `unit pkg update` re-resolves it.\n", what)
	enc := toml.NewEncoder(&buf)
	enc.SetArraysMultiline(false)
	if err := enc.Encode(l); err != nil {
		return fmt.Errorf("lock %s: %w", path, err)
	}
	if err := safepath.WriteFile(path, buf.Bytes(), 0o644, -1, -1, safepath.Trusted()); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	return nil
}

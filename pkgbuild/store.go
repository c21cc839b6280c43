package pkgbuild

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/safepath"
)

// MetaName is the file in every keg that describes it. The image builder
// and the store's readers skip it; everything else in a keg is a tree
// relative to the target system's /.
const MetaName = ".keg.json"

// currentLink in <store>/<name>/ points at the keg last built for name:
// what a system that names the package gets, and a gc root.
const currentLink = "current"

// Keg is a finished build in the store.
type Keg struct {
	Name     string `json:"name"`
	Version  string `json:"version"` // resolved (never "candidate")
	Revision int    `json:"revision,omitempty"`
	Hash     string `json:"hash"`
	Builder  string `json:"builder"`
	// Toolchain is the host toolchain the steps ran with (see toolchainID).
	Toolchain string     `json:"toolchain,omitempty"`
	Sources   []SourceID `json:"sources"`
	// Deps are the runtime dependencies, name → keg path relative to the store.
	Deps map[string]string `json:"deps,omitempty"`
	// BuildDeps are the build-time dependencies, name → keg path.
	BuildDeps map[string]string `json:"build_deps,omitempty"`
	// Deb describes the Debian package this keg unpacks, for kegs of a deb
	// source with deps (the recipe's keg and one keg per package of its
	// closure); nil otherwise. The image builder reads the closure's
	// Depends, Conffiles, Essential and Priority here.
	Deb *DebInfo `json:"deb,omitempty"`

	Dir string `json:"-"` // absolute path of the keg
}

// RelDir is the keg's path inside the store: name/version-hash.
func (k *Keg) RelDir() string { return filepath.Join(k.Name, kegDirName(k.Version, k.Hash)) }

func kegDirName(version, hash string) string {
	return strings.ReplaceAll(version, ":", "%3a") + "-" + hash
}

// ReadKeg reads the metadata of the keg in dir.
func ReadKeg(dir string) (*Keg, error) {
	data, err := os.ReadFile(filepath.Join(dir, MetaName))
	if err != nil {
		return nil, fmt.Errorf("keg %s: %w", dir, err)
	}
	var k Keg
	if err := json.Unmarshal(data, &k); err != nil {
		return nil, fmt.Errorf("keg %s: %s: %w", dir, MetaName, err)
	}
	k.Dir = dir
	return &k, nil
}

// Current returns the keg a system gets for name: the last one built.
func Current(store, name string) (*Keg, error) {
	dir := filepath.Join(store, name, currentLink)
	target, err := os.Readlink(dir)
	if errors.Is(err, fs.ErrNotExist) {
		msg := fmt.Sprintf("package %q: not in the store %s (build its recipe with unit pkg build)", name, store)
		if s := config.Suggest(name, storeNames(store)); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return nil, errors.New(msg)
	}
	if err != nil {
		return nil, fmt.Errorf("package %q: %w", name, err)
	}
	return ReadKeg(filepath.Join(store, name, target))
}

// storeNames are the packages store has a current keg of.
func storeNames(store string) []string {
	m, _ := filepath.Glob(filepath.Join(store, "*", currentLink))
	var out []string
	for _, p := range m {
		out = append(out, filepath.Base(filepath.Dir(p)))
	}
	return out
}

// Closure returns the kegs for names and, transitively, their runtime
// deps, each once, in a stable order (names sorted, deps before dependents).
func Closure(store string, names []string) ([]*Keg, error) {
	var out []*Keg
	seen := map[string]bool{}
	var visit func(k *Keg) error
	visit = func(k *Keg) error {
		if seen[k.Dir] {
			return nil
		}
		seen[k.Dir] = true
		deps := make([]string, 0, len(k.Deps))
		for _, rel := range k.Deps {
			deps = append(deps, rel)
		}
		sort.Strings(deps)
		for _, rel := range deps {
			d, err := ReadKeg(filepath.Join(store, rel))
			if err != nil {
				return fmt.Errorf("%s needs %s: %w", k.Name, rel, err)
			}
			if err := visit(d); err != nil {
				return err
			}
		}
		out = append(out, k)
		return nil
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	for _, n := range sorted {
		k, err := Current(store, n)
		if err != nil {
			return nil, err
		}
		if err := visit(k); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// List returns every keg in the store, by name then directory.
func List(store string) ([]*Keg, error) {
	names, err := os.ReadDir(store)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	var kegs []*Keg
	for _, n := range names {
		if !n.IsDir() || strings.HasPrefix(n.Name(), ".") {
			continue
		}
		vers, err := os.ReadDir(filepath.Join(store, n.Name()))
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		for _, v := range vers {
			if !v.IsDir() || strings.HasPrefix(v.Name(), ".") {
				continue
			}
			k, err := ReadKeg(filepath.Join(store, n.Name(), v.Name()))
			if err != nil {
				return nil, err
			}
			kegs = append(kegs, k)
		}
	}
	return kegs, nil
}

// IsCurrent reports whether k is what its name's current link points at.
func IsCurrent(store string, k *Keg) bool {
	t, err := os.Readlink(filepath.Join(store, k.Name, currentLink))
	return err == nil && t == filepath.Base(k.Dir)
}

// setCurrent points <store>/<name>/current at keg, atomically.
func setCurrent(store string, k *Keg) error {
	link := filepath.Join(store, k.Name, currentLink)
	if err := safepath.Symlink(filepath.Base(k.Dir), link, safepath.Trusted()); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// GC removes every keg that is not the current keg of its name nor needed,
// transitively, by one (runtime deps). With systems given, only the
// packages those systems name are roots. It returns the removed dirs.
func GC(store string, roots []string) ([]string, error) {
	unlock, err := lockStore(store, true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	kegs, err := List(store)
	if err != nil {
		return nil, err
	}
	if roots == nil {
		seen := map[string]bool{}
		for _, k := range kegs {
			if !seen[k.Name] {
				seen[k.Name] = true
				if _, err := Current(store, k.Name); err == nil {
					roots = append(roots, k.Name)
				}
			}
		}
	}
	var live []*Keg
	for _, r := range roots {
		c, err := Closure(store, []string{r})
		if err != nil {
			return nil, fmt.Errorf("gc: %w", err)
		}
		live = append(live, c...)
	}
	keep := map[string]bool{}
	for _, k := range live {
		keep[k.Dir] = true
	}
	var removed []string
	for _, k := range kegs {
		if keep[k.Dir] {
			continue
		}
		if err := os.RemoveAll(k.Dir); err != nil {
			return removed, fmt.Errorf("gc: %w", err)
		}
		removed = append(removed, k.Dir)
		os.Remove(filepath.Join(store, ".log", k.Name+"-"+k.Hash+".log"))
		if !IsCurrent(store, k) {
			continue
		}
		os.Remove(filepath.Join(store, k.Name, currentLink))
	}
	// Leftovers of interrupted builds; the exclusive lock says none is running.
	tmps, _ := filepath.Glob(filepath.Join(store, ".tmp", "*"))
	for _, t := range tmps {
		os.RemoveAll(t)
	}
	// Then the pool files whose last keg is gone (or was never finished).
	if err := sweepPool(store); err != nil {
		return removed, err
	}
	return removed, nil
}

// lockStore takes the store's lock: shared for builds (they only add),
// exclusive for gc (it removes).
func lockStore(store string, exclusive bool) (func(), error) {
	if err := os.MkdirAll(store, 0o755); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	return flock(filepath.Join(store, ".lock"), how)
}

// flockFile takes an exclusive lock on path (created if needed), waiting
// for other processes that hold it.
func flockFile(path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	return flock(path, unix.LOCK_EX)
}

func flock(path string, how int) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

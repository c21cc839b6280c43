package image

import (
	"fmt"
	"io/fs"
	"maps"
	"os"

	"path/filepath"
	"slices"
	"strings"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/pkgbuild"
	"github.com/unit-os/unit/systemd/translate"
)

// Services from their packages' unit files (docs/debian.md). A system's
// [service.NAME] without exec takes its keys from NAME.service, which a
// package of the image ships. The packages are known only once [system]
// is read, so the config loads twice: first with every such service
// taken as declared (pending), then, once the kegs exist, with their unit
// files translated. The unit files read go into the image, so that PID 1
// translates the same files at boot.

// pending is the first load's Loader.Declared: a service without exec is
// taken as declared; the second load translates it.
func pending(seen *bool) func(string) (*config.Service, []config.Note, error) {
	return func(string) (*config.Service, []config.Note, error) {
		*seen = true
		return &config.Service{Exec: []string{"/bin/true"}}, nil, nil
	}
}

// unitFiles are the unit-file directories of an image's kegs, assembled
// under a temporary root for the translation, and the files it read.
type unitFiles struct {
	root string
	read map[string]bool // guest paths
}

// newUnitFiles copies the unit files and links of kegs (translate.UnitDirs)
// under a new temporary directory; the first keg to ship a path wins.
func newUnitFiles(kegs []*pkgbuild.Keg) (*unitFiles, error) {
	root, err := os.MkdirTemp("", "unit-files-")
	if err != nil {
		return nil, err
	}
	u := &unitFiles{root: root, read: map[string]bool{}}
	for _, k := range kegs {
		for _, d := range translate.UnitDirs {
			if err := u.copyDir(k, d); err != nil {
				u.Close()
				return nil, fmt.Errorf("package %s: %w", k.Name, err)
			}
		}
	}
	return u, nil
}

// copyDir copies keg k's directory d (a guest path without "/"), its
// drop-in directories included, never following a link.
func (u *unitFiles) copyDir(k *pkgbuild.Keg, d string) error {
	src := filepath.Join(k.Dir, filepath.FromSlash(d))
	if fi, err := os.Lstat(src); err != nil || !fi.IsDir() {
		return nil
	}
	return filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(k.Dir, p)
		dst := filepath.Join(u.root, rel)
		if _, err := os.Lstat(dst); err == nil && !e.IsDir() {
			return nil // an earlier keg's
		}
		switch t := e.Type(); {
		case e.IsDir():
			return os.MkdirAll(dst, 0o755)
		case t&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, dst)
		case t.IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(dst, data, 0o644)
		}
		return nil
	})
}

// Declared is the second load's Loader.Declared.
func (u *unitFiles) Declared(name string) (*config.Service, []config.Note, error) {
	res, err := translate.Service(u.root, name)
	if err != nil || res == nil {
		return nil, nil, err
	}
	for _, f := range res.Files {
		u.read[f] = true
	}
	return res.Service, res.Notes, nil
}

// entries are the files the translation read, as image entries: the
// unit files, their drop-ins and the alias links.
func (u *unitFiles) entries() ([]entry, error) {
	var out []entry
	for _, p := range slices.Sorted(maps.Keys(u.read)) {
		host := filepath.Join(u.root, filepath.FromSlash(strings.TrimPrefix(p, "/")))
		fi, err := os.Lstat(host)
		if err != nil {
			return nil, err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			t, err := os.Readlink(host)
			if err != nil {
				return nil, err
			}
			out = append(out, entry{Name: strings.TrimPrefix(p, "/"), Mode: fs.ModeSymlink | 0o777, Data: []byte(t)})
			continue
		}
		data, err := os.ReadFile(host)
		if err != nil {
			return nil, err
		}
		out = append(out, entry{Name: strings.TrimPrefix(p, "/"), Mode: 0o644, Data: data})
	}
	return out, nil
}

// Close removes the assembled tree.
func (u *unitFiles) Close() error {
	if u == nil {
		return nil
	}
	return os.RemoveAll(u.root)
}

// loadDeclared loads the config again with load, the services without
// exec translated from the kegs' unit files.
func loadDeclared(l config.Loader, kegs []*pkgbuild.Keg, load func(config.Loader) (*config.Config, error)) (*config.Config, *unitFiles, error) {
	u, err := newUnitFiles(kegs)
	if err != nil {
		return nil, nil, err
	}
	l.Declared = u.Declared
	cfg, err := load(l)
	if err != nil {
		u.Close()
		return nil, nil, err
	}
	return cfg, u, nil
}

// LoadSystem loads a system's config (load: l.Load or l.LoadFiles) as
// `unit image build` does, for `unit check`: a service without exec takes
// its keys from the unit file a package of the system ships, the
// packages' kegs taken from store. The notes are in Config.Notes.
func LoadSystem(l config.Loader, store string, load func(config.Loader) (*config.Config, error)) (*config.Config, error) {
	seen := false
	l.Declared = pending(&seen)
	cfg, err := load(l)
	if err != nil || !seen {
		return cfg, err
	}
	var kegs []*pkgbuild.Keg
	if len(cfg.System.Packages) > 0 {
		if kegs, err = pkgbuild.Closure(store, cfg.System.Packages); err != nil {
			return nil, fmt.Errorf("services from their packages' unit files: %w (build the packages first: unit pkg build)", err)
		}
	}
	cfg, u, err := loadDeclared(l, kegs, load)
	if err != nil {
		return nil, err
	}
	return cfg, u.Close()
}

// commandProgram is the program of exec or of an exec_pre, exec_post or
// exec_stop_post command: its first word less systemd's prefixes.
func commandProgram(argv []string) string {
	if len(argv) == 0 {
		return ""
	}
	return strings.TrimLeft(argv[0], "-+!@:")
}

// LoadDescription loads a system's config for what it says beside its
// services' programs ([system], checks): a service without exec is taken
// as declared by a unit file, unread.
func LoadDescription(load func(config.Loader) (*config.Config, error)) (*config.Config, error) {
	seen := false
	return load(config.Loader{Declared: pending(&seen)})
}

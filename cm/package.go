package cm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/unit-os/unit/config"
)

// packageRes is a [package.NAME]: a keg (<store>/<name>/<version>-<hash>/)
// whose files are linked under prefix, e.g. keg/bin/hello ->
// /usr/local/bin/hello. Links into another version of the same package (an
// upgrade) are repointed, and stale ones in the same directories removed.
type packageRes struct {
	p   config.Package
	env *env
}

func newPackage(p *config.Package, b *builder) *packageRes { return &packageRes{p: *p, env: b.env} }

// ManagedPaths are the links it makes: a dir that purges unmanaged
// entries keeps them.
func (r *packageRes) ManagedPaths() []string { return r.Watches() }

func (r *packageRes) ID() string         { return "package:" + r.p.Name }
func (r *packageRes) Notifies() []string { return r.p.Notify }
func (r *packageRes) Same(o Resource) bool {
	x, ok := o.(*packageRes)
	return ok && reflect.DeepEqual(r.p, x.p)
}

// Watches the links it makes (their directories get the inotify watch).
func (r *packageRes) Watches() []string {
	keg, err := r.keg()
	if err != nil {
		return nil
	}
	files, err := kegFiles(keg)
	if err != nil {
		return nil
	}
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = filepath.Join(r.p.Prefix, f)
	}
	return out
}

// keg finds the keg directory for the configured version.
func (r *packageRes) keg() (string, error) {
	dir := filepath.Join(r.p.Store, r.p.Name)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("package %s: %w", r.p.Name, err)
	}
	var match []string
	for _, e := range ents {
		n := e.Name()
		if !e.IsDir() {
			continue
		}
		if r.p.Version == "" || n == r.p.Version || strings.HasPrefix(n, r.p.Version+"-") {
			match = append(match, n)
		}
	}
	sort.Strings(match)
	switch {
	case len(match) == 1:
		return filepath.Join(dir, match[0]), nil
	case len(match) == 0 && r.p.Version == "":
		return "", fmt.Errorf("package %s: no keg in %s", r.p.Name, dir)
	case len(match) == 0:
		return "", fmt.Errorf("package %s: no keg for version %q in %s", r.p.Name, r.p.Version, dir)
	}
	return "", fmt.Errorf("package %s: several kegs match (%s); set version = \"VERSION-HASH\"", r.p.Name, strings.Join(match, ", "))
}

// kegFiles lists the keg's files and symlinks, relative and sorted.
func kegFiles(keg string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(keg, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(keg, p)
		if err != nil {
			return err
		}
		out = append(out, rel)
		return nil
	})
	return out, err
}

func (r *packageRes) Check(ctx context.Context) ([]Delta, error) { return r.run(ctx, false) }
func (r *packageRes) Apply(ctx context.Context) ([]Delta, error) { return r.run(ctx, true) }

func (r *packageRes) run(ctx context.Context, apply bool) ([]Delta, error) {
	keg, err := r.keg()
	if err != nil {
		return nil, err
	}
	files, err := kegFiles(keg)
	if err != nil {
		return nil, fmt.Errorf("package %s: %w", r.p.Name, err)
	}
	linked, changed := 0, 0
	var what []Delta
	dirs := map[string]bool{}
	want := map[string]bool{}
	for _, f := range files {
		dst := filepath.Join(r.p.Prefix, f)
		want[dst] = true
		dirs[filepath.Dir(dst)] = true
		ws, err := ensureLink(ctx, dst, filepath.Join(keg, f), false, apply)
		if err != nil {
			return what, fmt.Errorf("package %s: %w", r.p.Name, err)
		}
		if len(ws) > 0 {
			changed++
			if len(what) < 10 {
				what = append(what, Delta{Attr: "link " + dst, Old: ws[0].Old, New: filepath.Join(keg, f)})
			}
		}
		linked++
	}
	stale, err := r.stale(keg, dirs, want, apply)
	if err != nil {
		return what, err
	}
	what = append(what, stale...)
	if changed > len(what) {
		what = append(what, Delta{Attr: fmt.Sprintf("%d of %d links changed", changed, linked)})
	}
	return what, nil
}

// stale removes links in dirs that point into another keg of this package.
func (r *packageRes) stale(keg string, dirs, want map[string]bool, apply bool) ([]Delta, error) {
	pkgDir := filepath.Join(r.p.Store, r.p.Name) + "/"
	var what []Delta
	names := make([]string, 0, len(dirs))
	for d := range dirs {
		names = append(names, d)
	}
	sort.Strings(names)
	for _, d := range names {
		ents, err := os.ReadDir(d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return what, err
		}
		for _, e := range ents {
			p := filepath.Join(d, e.Name())
			if want[p] || e.Type()&fs.ModeSymlink == 0 {
				continue
			}
			t, err := os.Readlink(p)
			if err != nil || !strings.HasPrefix(t, pkgDir) || strings.HasPrefix(t, keg+"/") {
				continue
			}
			if apply {
				if err := os.Remove(p); err != nil {
					return what, err
				}
			}
			what = append(what, delta("stale link "+p, t, ""))
		}
	}
	return what, nil
}

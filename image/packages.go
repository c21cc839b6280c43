package image

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/pkgbuild"
)

// packageSet is what a system's [system] packages bring into an image:
// the files of every keg in their closure (runtime deps included), and a
// kernel or busybox when a keg is one. Kegs are trees relative to the
// guest's /, built by `unit pkg build` into the store.
type packageSet struct {
	Kegs    []Package // name and resolved version of every keg used
	Entries []entry   // files and symlinks of the ordinary kegs
	Kernel  *kernel   // from a keg with boot/vmlinuz-*, if any
	// KernelName and KernelKeg name that keg (package, store path).
	KernelName, KernelKeg string
	Busybox               *busybox // from a keg with bin/busybox, if any
	// Debs are the kegs of Debian packages with their closure: the image
	// takes their runtime closure (runtime.go), not every file. Named
	// holds the keg dirs of those [system] packages names.
	Debs  []*pkgbuild.Keg
	Named map[string]bool
}

// loadPackages takes the current kegs for names (and their deps) from store.
// A kernel keg gives the image its kernel and module tree (modules are then
// chosen by [system] modules, as usual); a busybox keg gives /bin/busybox
// and its applet links. Every other keg is copied file by file.
func loadPackages(ctx context.Context, store string, names []string) (*packageSet, error) {
	kegs, err := pkgbuild.Closure(store, names)
	if err != nil {
		return nil, err
	}
	ps := &packageSet{Named: map[string]bool{}}
	for _, n := range names {
		k, err := pkgbuild.Current(store, n)
		if err != nil {
			return nil, err
		}
		ps.Named[k.Dir] = true
	}
	owner := map[string]string{} // path → keg that put it there
	for _, k := range kegs {
		if k.Deb == nil || ps.Named[k.Dir] {
			ps.Kegs = append(ps.Kegs, Package{Name: k.Name, Version: k.Version, KegHash: k.Hash,
				Keg: filepath.ToSlash(k.RelDir()), Sources: k.Sources})
		}
		switch {
		case k.Deb != nil:
			ps.Debs = append(ps.Debs, k)
		case hasGlob(k.Dir, "boot/vmlinuz-*"):
			if ps.Kernel != nil {
				return nil, fmt.Errorf("packages: two kernels (%s and %s)", ps.Kernel.Pkg.Name, k.Name)
			}
			if ps.Kernel, err = kegKernel(k); err != nil {
				return nil, err
			}
			ps.KernelName, ps.KernelKeg = k.Name, filepath.ToSlash(k.RelDir())
		case hasGlob(k.Dir, "bin/busybox") || hasGlob(k.Dir, "usr/bin/busybox"):
			if ps.Busybox, err = kegBusybox(ctx, k); err != nil {
				return nil, err
			}
		default:
			es, err := kegEntries(k.Dir)
			if err != nil {
				return nil, fmt.Errorf("package %s: %w", k.Name, err)
			}
			for _, e := range es {
				if prev, ok := owner[e.Name]; ok {
					return nil, fmt.Errorf("packages %s and %s both install /%s", prev, k.Name, e.Name)
				}
				owner[e.Name] = k.Name
			}
			ps.Entries = append(ps.Entries, es...)
		}
	}
	return ps, nil
}

// entries are the kegs' files, less those whose path the image already
// has (a package does not replace /init or the system's own files).
func (ps *packageSet) entries(taken map[string]bool) ([]entry, error) {
	var out []entry
	for _, e := range ps.Entries {
		if taken[e.Name] {
			return nil, fmt.Errorf("packages: /%s is already part of the image", e.Name)
		}
		out = append(out, e)
	}
	return out, nil
}

func hasGlob(dir, pattern string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, pattern))
	return len(m) > 0
}

// kegEntries reads a keg's regular files and symlinks (directories follow
// from their paths), skipping its metadata.
func kegEntries(dir string) ([]entry, error) {
	files, err := kegFiles(dir)
	if err != nil {
		return nil, err
	}
	es := make([]entry, 0, len(files))
	for _, f := range files {
		es = append(es, f.entry())
	}
	return es, nil
}

// walkKeg calls fn for every path of a keg but its directories and
// metadata, with the guest path (no leading "/") and the host path.
func walkKeg(dir string, fn func(rel, host string, info fs.FileInfo) error) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == pkgbuild.MetaName || d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return fn(filepath.ToSlash(rel), p, info)
	})
}

// debOf is the Debian package a keg was made from (its first deb source),
// or the keg itself.
func debOf(k *pkgbuild.Keg) Package {
	for _, s := range k.Sources {
		if s.Kind == "deb" {
			p := Package{Name: s.Name, Version: s.Version}
			if len(s.Files) == 1 {
				p.SHA256 = s.Files[0].SHA256 // pinned: no need to ask apt's index
			}
			return p
		}
	}
	return Package{Name: k.Name, Version: k.Version}
}

// kegKernel finds the kernel image and module tree in a kernel keg.
func kegKernel(k *pkgbuild.Keg) (*kernel, error) {
	vms, _ := filepath.Glob(filepath.Join(k.Dir, "boot", "vmlinuz-*"))
	sort.Strings(vms)
	if len(vms) != 1 {
		return nil, fmt.Errorf("package %s: want one boot/vmlinuz-*, found %d", k.Name, len(vms))
	}
	release := strings.TrimPrefix(filepath.Base(vms[0]), "vmlinuz-")
	// Looked up, never made: the store is read-only to the image builder.
	var mods string
	for _, d := range []string{"lib/modules/", "usr/lib/modules/"} {
		if fi, err := os.Stat(filepath.Join(k.Dir, d+release)); err == nil && fi.IsDir() {
			mods = filepath.Join(k.Dir, d+release)
			break
		}
	}
	if mods == "" {
		return nil, fmt.Errorf("package %s: no lib/modules/%s", k.Name, release)
	}
	if _, err := os.Stat(filepath.Join(mods, "modules.dep")); err != nil {
		return nil, fmt.Errorf("package %s: no modules.dep (the recipe must run depmod): %w", k.Name, err)
	}
	return &kernel{Pkg: debOf(k), Release: release, Vmlinuz: vms[0], Modules: mods}, nil
}

// kegBusybox is the busybox of a keg, with its applets asked from the binary.
func kegBusybox(ctx context.Context, k *pkgbuild.Keg) (*busybox, error) {
	b := &busybox{Pkg: debOf(k)}
	for _, rel := range []string{"bin/busybox", "usr/bin/busybox"} {
		if _, err := os.Stat(filepath.Join(k.Dir, rel)); err == nil {
			b.Path = filepath.Join(k.Dir, rel)
			break
		}
	}
	out, err := run(ctx, "", b.Path, "--list-full")
	if err != nil {
		return nil, fmt.Errorf("package %s: busybox applets: %w", k.Name, err)
	}
	b.Applets = parseApplets(out)
	return b, nil
}

// buildPackages builds (or finds cached) the kegs for names from the
// recipes in dir, <dir>/<name>.toml, with helper (the unit binary) as the
// sandbox helper. A no-change run costs a few hundred milliseconds.
func buildPackages(ctx context.Context, log *slog.Logger, dir, store, helper string, names []string) error {
	var files []string
	for _, n := range names {
		f := filepath.Join(dir, n+".toml")
		if _, err := os.Stat(f); err != nil {
			continue // not ours to build: it must be in the store already
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil
	}
	o, err := pkgbuild.PkgConfig() // the caches and snapshots a pin may come from
	if err != nil {
		return err
	}
	o.Store, o.Helper, o.Progress = store, helper, logWriter{log}
	b, err := pkgbuild.NewBuilder(o)
	if err != nil {
		return err
	}
	_, err = b.Build(ctx, files)
	return err
}

// checkPackageNames makes sure every name has a recipe in dir or a keg in
// store before anything is built, and suggests the recipe a typo meant.
func checkPackageNames(dir, store string, names []string) error {
	var recipes []string
	if dir != "" {
		m, _ := filepath.Glob(filepath.Join(dir, "*.toml"))
		for _, f := range m {
			recipes = append(recipes, strings.TrimSuffix(filepath.Base(f), ".toml"))
		}
	}
	for _, n := range names {
		if slices.Contains(recipes, n) {
			continue
		}
		_, err := pkgbuild.Current(store, n)
		if err == nil {
			continue // built elsewhere: the store has it
		}
		if dir == "" {
			return err
		}
		msg := fmt.Sprintf("no recipe %q in %s", n, displayDir(dir))
		if s := config.Suggest(n, recipes); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return errors.New(msg)
	}
	return nil
}

// displayDir is dir as the user would type it: relative to the working
// directory when below it, with a trailing slash.
func displayDir(dir string) string {
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, dir); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			dir = rel
		}
	}
	return dir + string(filepath.Separator)
}

// findRecipes is the recipe directory for a system: explicit, else the
// nearest packages/ above the system file, else above the working
// directory (tests write systems into temp dirs); "" if none has recipes.
func findRecipes(explicit, system string) string {
	if explicit != "" {
		return explicit
	}
	var starts []string
	if abs, err := filepath.Abs(system); err == nil {
		starts = append(starts, filepath.Dir(abs))
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, d := range starts {
		for {
			if m, _ := filepath.Glob(filepath.Join(d, "packages", "*.toml")); len(m) > 0 {
				return filepath.Join(d, "packages")
			}
			parent := filepath.Dir(d)
			if parent == d {
				break
			}
			d = parent
		}
	}
	return ""
}

// logWriter turns the builder's progress lines into log records.
type logWriter struct{ log *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.log.Info("pkg " + strings.Join(strings.Fields(line), " "))
	}
	return len(p), nil
}

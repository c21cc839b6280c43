package image

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/pkgbuild"
)

// inputs is what a build starts from, resolved: the system loaded, its
// hardware profile, and the kernel, busybox, packages and modules it uses.
type inputs struct {
	o          Options
	log        *slog.Logger
	cache      string
	mtime      int64
	cfg        *config.Config
	format     string
	comp       compression // how hard the image is packed
	prof       *profile
	systemTOML []byte
	recipes    string // the recipes directory when [system] has packages
	pkgs       *packageSet
	unitBin    []byte
	kernel     *kernel
	// kernelSource is "apt METAPACKAGE" or "keg NAME/VERSION-HASH".
	kernelSource string
	busybox      *busybox
	mods         *moduleSet
	// store is the keg store; units the unit files of the packages when
	// a service takes its keys from one (declared.go), else nil.
	store string
	units *unitFiles
}

// resolve checks o, loads the system and fetches, builds or loads what
// it names, before anything is assembled.
func resolve(ctx context.Context, o Options) (*inputs, error) {
	in := &inputs{o: o, log: o.Log}
	if in.log == nil {
		in.log = slog.New(slog.DiscardHandler)
	}
	if o.System == "" || o.Out == "" || o.Init == "" {
		return nil, errors.New("image build: System, Out and Init are required")
	}
	var err error
	if in.cache, err = cacheDir(o.CacheDir); err != nil {
		return nil, err
	}
	if in.mtime, err = sourceDateEpoch(); err != nil {
		return nil, err
	}
	// Unit files come with the packages: a service that takes its keys
	// from one is loaded again once they are built (declared.go).
	declared := false
	if in.cfg, err = (config.Loader{Declared: pending(&declared)}).LoadFiles(o.System); err != nil {
		return nil, err
	}
	if in.format, err = checkFormat(o.Format); err != nil {
		return nil, err
	}
	in.comp = compressionOf(o.Release, in.cfg.System.Compression)
	if in.prof, err = hardwareProfile(in.cfg.System, in.format); err != nil {
		return nil, err
	}
	if in.systemTOML, err = os.ReadFile(o.System); err != nil {
		return nil, err
	}
	in.store = o.Store
	if in.store == "" {
		in.store = filepath.Join(in.cache, "store")
	}
	if err := in.resolvePackages(ctx); err != nil {
		return nil, err
	}
	if declared {
		if err := in.resolveDeclared(); err != nil {
			return nil, err
		}
	}
	if in.unitBin, err = os.ReadFile(o.Init); err != nil {
		return nil, fmt.Errorf("init binary: %w", err)
	}
	if err := in.resolveKernel(ctx); err != nil {
		return nil, err
	}
	in.log.Info("kernel", "version", in.kernel.Release, "package", in.kernel.Pkg.Version, "from", in.kernelSource)
	for _, p := range in.pkgs.Kegs {
		in.log.Info("package", "name", p.Name, "version", p.Version, "keg", p.Keg)
	}
	if in.busybox = in.pkgs.Busybox; in.busybox == nil {
		if in.busybox, err = fetchBusybox(ctx, in.log, in.cache); err != nil {
			return nil, err
		}
	}
	k := in.kernel
	if in.mods, err = selectModules(k.Modules, k.Release, in.prof.modules(k.Modules, in.cfg.System.Modules)); err != nil {
		return nil, fmt.Errorf("%s: [system] modules: %w", in.cfg.System.Pos, err)
	}
	return in, nil
}

// resolvePackages builds (when there are recipes) and loads the kegs of
// [system] packages; errors point at the packages key, not the [system]
// header.
func (in *inputs) resolvePackages(ctx context.Context) error {
	in.pkgs = &packageSet{}
	names := in.cfg.System.Packages
	if len(names) == 0 {
		return nil
	}
	store := in.store
	at := in.cfg.System.Pos
	if l := config.IndexLines(in.systemTOML).Line("system", "packages"); l > 0 {
		at.Line = l
	}
	in.recipes = findRecipes(in.o.Recipes, in.o.System)
	if err := checkPackageNames(in.recipes, store, names); err != nil {
		return fmt.Errorf("%s: packages: %w", at, err)
	}
	if in.recipes != "" {
		if err := buildPackages(ctx, in.log, in.recipes, store, in.o.Helper, names); err != nil {
			return fmt.Errorf("%s: packages: %w", at, err)
		}
	}
	pkgs, err := loadPackages(ctx, store, names)
	if err != nil {
		return fmt.Errorf("%s: packages: %w", at, err)
	}
	in.pkgs = pkgs
	return nil
}

// resolveDeclared loads the system again, its services without exec
// taking their keys from the packages' unit files, and prints what those
// declare that unit does not honour.
func (in *inputs) resolveDeclared() error {
	var kegs []*pkgbuild.Keg
	if len(in.cfg.System.Packages) > 0 {
		var err error
		if kegs, err = pkgbuild.Closure(in.store, in.cfg.System.Packages); err != nil {
			return err
		}
	}
	cfg, units, err := loadDeclared(config.Loader{}, kegs, func(l config.Loader) (*config.Config, error) { return l.LoadFiles(in.o.System) })
	if err != nil {
		return err
	}
	in.cfg, in.units = cfg, units
	if in.o.Notes != nil {
		for _, n := range cfg.Notes {
			fmt.Fprintln(in.o.Notes, n)
		}
	}
	return nil
}

// resolveKernel picks the kernel: a kernel keg of [system] packages when
// there is one (an explicit choice, pinned in the store), else the
// current package of the profile's metapackage. A keg is checked against
// the profile.
func (in *inputs) resolveKernel(ctx context.Context) error {
	prof, pkgs := in.prof, in.pkgs
	if pkgs.Kernel == nil {
		k, err := fetchKernel(ctx, in.log, in.cache, prof.KernelMeta)
		if err != nil {
			return err
		}
		in.kernel, in.kernelSource = k, "apt "+prof.KernelMeta
		return nil
	}
	k := pkgs.Kernel
	if miss := prof.missing(k.Modules); len(miss) > 0 {
		return fmt.Errorf("%s: hardware = %q: the kernel of package %q (%s, %s) lacks %s; "+
			"leave the kernel out of [system] packages to get %s's, or package a kernel that has them",
			in.cfg.System.Pos, prof.Name, pkgs.KernelName, k.Pkg.Name, k.Release, strings.Join(miss, ", "), prof.KernelMeta)
	}
	in.kernel, in.kernelSource = k, "keg "+pkgs.KernelKeg
	return nil
}

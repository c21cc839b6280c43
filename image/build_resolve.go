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
	if in.cfg, err = config.LoadFiles(o.System); err != nil {
		return nil, err
	}
	if in.format, err = checkFormat(o.Format); err != nil {
		return nil, err
	}
	if in.prof, err = hardwareProfile(in.cfg.System, in.format); err != nil {
		return nil, err
	}
	if in.systemTOML, err = os.ReadFile(o.System); err != nil {
		return nil, err
	}
	if err := in.resolvePackages(ctx); err != nil {
		return nil, err
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
	store := in.o.Store
	if store == "" {
		store = filepath.Join(in.cache, "store")
	}
	at := in.cfg.System.Pos
	if l := config.IndexLines(in.systemTOML).Line("system", "packages"); l > 0 {
		at.Line = l
	}
	in.recipes = findRecipes(in.o.Recipes, in.o.System)
	if err := checkPackageNames(in.recipes, store, names); err != nil {
		return fmt.Errorf("%s: packages: %w", at, err)
	}
	if in.recipes != "" {
		if err := buildPackages(ctx, in.log, in.recipes, store, in.o.Init, names); err != nil {
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

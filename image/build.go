// Package image turns a system description into a bootable kernel and
// initramfs, and boots them in qemu.
package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/pkgbuild"
	"github.com/unit-os/unit/safepath"
	"github.com/unit-os/unit/update"
)

// Output file names inside the build directory.
const (
	VmlinuzName   = "vmlinuz"
	InitramfsName = "initramfs.cpio.zst"
	ManifestName  = "manifest.json"
)

// Cmdline is the kernel command line every image boots with: the serial
// console, and an immediate reboot on panic (which -no-reboot turns into
// qemu exiting) so a dead guest never hangs a test.
const Cmdline = "console=ttyS0 panic=-1"

// Options says what to build and where.
type Options struct {
	System   string // path to SYSTEM.toml
	Out      string // output directory
	Init     string // the static unit binary installed as /init
	CacheDir string // default: $UNIT_CACHE, else $XDG_CACHE_HOME/unit, else ~/.cache/unit
	Store    string // package store for [system] packages; default: CacheDir/store
	Format   string // FormatInitramfs (default) or FormatDisk
	Recipes  string // recipes for [system] packages; default: the nearest packages/ above System or the working dir
	// Append is added to the profile's kernel command line (in the UKI for
	// the disk format; `unit image run --append` does it for -kernel
	// boots), e.g. "unit.watchdog=10s".
	Append string
	// Fleet is the unit-fleet program, put in as /bin/unit-fleet when the
	// system has [fleet] agent = true (and only then: a system without
	// it carries nothing of NATS).
	Fleet string
	Log   *slog.Logger
}

// Result describes a build. Everything but the paths is also written to
// DIR/manifest.json, which holds no timestamps or absolute paths so that
// two builds of the same inputs give the same bytes.
type Result struct {
	Vmlinuz   string `json:"-"` // path to DIR/vmlinuz
	Initramfs string `json:"-"` // path to DIR/initramfs.cpio.zst

	Hostname string `json:"hostname,omitempty"`
	// Release names what the image was built from (release.go).
	Release       string  `json:"release"`
	Kernel        Package `json:"kernel"`
	KernelVersion string  `json:"kernel_version"` // uname -r in the guest
	// KernelSource says where the kernel came from: "keg NAME/VERSION-HASH"
	// (a kernel in [system] packages) or "apt METAPACKAGE" (the profile's).
	KernelSource string  `json:"kernel_source"`
	Busybox      Package `json:"busybox"`
	// Fleet is the unit-fleet program in /bin ([fleet] agent = true).
	Fleet    *File     `json:"fleet,omitempty"`
	Packages []Package `json:"packages,omitempty"` // kegs from [system] packages
	// Debs are the Debian packages the image has files of, pinned;
	// DroppedDebs those of the closure nothing that runs needs.
	Debs        []DebPin `json:"debs,omitempty"`
	DroppedDebs []string `json:"dropped_debs,omitempty"`
	// Overrides are package defaults a resource of the system replaces.
	Overrides []Override `json:"overrides,omitempty"`
	Cmdline   string     `json:"cmdline"`
	Format    string     `json:"format"`
	Hardware  string     `json:"hardware"`
	// Disk describes the UEFI disk image (format disk).
	Disk *DiskInfo `json:"disk,omitempty"`
	// Modules are the included kernel modules, dependencies first (for
	// the disk format: those on the root; Disk.InitramfsModules are the
	// initramfs's).
	Modules []string `json:"modules"`
	Files   []File   `json:"files"`

	// Compressor is the zstd that compressed the initramfs: its output
	// (and so the image's bytes) depends on the version.
	Compressor Package `json:"compressor"`

	// The initramfs is four compressed archives, concatenated; their
	// sizes add up to InitramfsSize. In the disk format the initramfs is
	// only unit and the modules that mount the root (Disk.RootSize is
	// the root): config and packages are 0.
	InitramfsSize int64 `json:"initramfs_size"` // compressed
	// BaseSize is the base system: /init (unit), busybox, the system's
	// config and the skeleton, without packages or modules.
	BaseSize int64 `json:"initramfs_base_size"`
	// PackagesSize is what the files of [system] packages add.
	PackagesSize int64 `json:"packages_size"`
	// BareSize is the initramfs without lib/modules: BaseSize + PackagesSize.
	BareSize int64 `json:"initramfs_without_modules_size"`
	// ModulesSize is what the modules add: InitramfsSize - BareSize.
	ModulesSize int64 `json:"modules_size"`
	// ModulesRawSize is the uncompressed size of the included .ko files.
	ModulesRawSize int64 `json:"modules_raw_size"`
}

// File is one output, by name within the build directory.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Build assembles the kernel and initramfs for o.System into o.Out.
func Build(ctx context.Context, o Options) (*Result, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.System == "" || o.Out == "" || o.Init == "" {
		return nil, errors.New("image build: System, Out and Init are required")
	}
	cache, err := cacheDir(o.CacheDir)
	if err != nil {
		return nil, err
	}
	mtime, err := sourceDateEpoch()
	if err != nil {
		return nil, err
	}
	cfg, err := config.LoadFiles(o.System)
	if err != nil {
		return nil, err
	}
	format, err := checkFormat(o.Format)
	if err != nil {
		return nil, err
	}
	prof, err := hardwareProfile(cfg.System, format)
	if err != nil {
		return nil, err
	}
	systemTOML, err := os.ReadFile(o.System)
	if err != nil {
		return nil, err
	}
	pkgs := &packageSet{}
	if len(cfg.System.Packages) > 0 {
		store := o.Store
		if store == "" {
			store = filepath.Join(cache, "store")
		}
		// Errors point at the packages key, not the [system] header.
		at := cfg.System.Pos
		if l := config.IndexLines(systemTOML).Line("system", "packages"); l > 0 {
			at.Line = l
		}
		dir := findRecipes(o.Recipes, o.System)
		if err := checkPackageNames(dir, store, cfg.System.Packages); err != nil {
			return nil, fmt.Errorf("%s: packages: %w", at, err)
		}
		if dir != "" {
			if err := buildPackages(ctx, log, dir, store, o.Init, cfg.System.Packages); err != nil {
				return nil, fmt.Errorf("%s: packages: %w", at, err)
			}
		}
		if pkgs, err = loadPackages(ctx, store, cfg.System.Packages); err != nil {
			return nil, fmt.Errorf("%s: packages: %w", at, err)
		}
	}
	unitBin, err := os.ReadFile(o.Init)
	if err != nil {
		return nil, fmt.Errorf("init binary: %w", err)
	}

	// The kernel: a kernel keg of [system] packages when there is one (an
	// explicit choice, pinned in the store), else the current package of
	// the profile's metapackage. A keg is checked against the profile.
	k := pkgs.Kernel
	kernelSource := "apt " + prof.KernelMeta
	if k == nil {
		if k, err = fetchKernel(ctx, log, cache, prof.KernelMeta); err != nil {
			return nil, err
		}
	} else {
		kernelSource = "keg " + pkgs.KernelKeg
		if miss := prof.missing(k.Modules); len(miss) > 0 {
			return nil, fmt.Errorf("%s: hardware = %q: the kernel of package %q (%s, %s) lacks %s; "+
				"leave the kernel out of [system] packages to get %s's, or package a kernel that has them",
				cfg.System.Pos, prof.Name, pkgs.KernelName, k.Pkg.Name, k.Release, strings.Join(miss, ", "), prof.KernelMeta)
		}
	}
	log.Info("kernel", "version", k.Release, "package", k.Pkg.Version, "from", kernelSource)
	for _, p := range pkgs.Kegs {
		log.Info("package", "name", p.Name, "version", p.Version, "keg", p.Keg)
	}
	bb := pkgs.Busybox
	if bb == nil {
		if bb, err = fetchBusybox(ctx, log, cache); err != nil {
			return nil, err
		}
	}
	mods, err := selectModules(k.Modules, k.Release, prof.modules(k.Modules, cfg.System.Modules))
	if err != nil {
		return nil, fmt.Errorf("%s: [system] modules: %w", cfg.System.Pos, err)
	}

	base := baseEntries(unitBin)
	var fleetFile *File
	if cfg.Fleet.Agent {
		e, f, err := fleetEntry(o.Fleet, cfg.Fleet.Pos)
		if err != nil {
			return nil, err
		}
		base, fleetFile = append(base, e), f
	}
	if err := checkAccounts(cfg, base); err != nil {
		return nil, err
	}
	recipes := ""
	if len(cfg.System.Packages) > 0 {
		recipes = findRecipes(o.Recipes, o.System)
	}
	var kegHashes []string
	for _, p := range pkgs.Kegs {
		kegHashes = append(kegHashes, p.KegHash)
	}
	for _, k := range pkgs.Debs {
		kegHashes = append(kegHashes, k.Hash)
	}
	release := releaseID(ctx, o.System, recipes, kegHashes)
	log.Info("release", "id", release)
	conf := append(configEntries(systemTOML), releaseEntry(release))
	bbEntries, err := bb.entries(takenPaths(base))
	if err != nil {
		return nil, err
	}
	base = append(base, bbEntries...)
	pkgEntries, err := pkgs.entries(takenPaths(append(conf, base...)))
	if err != nil {
		return nil, err
	}
	// Debian packages: only their runtime closure, checked against what
	// the services run (every image: a service's program must be there).
	rest := append(append(append([]entry(nil), base...), conf...), pkgEntries...)
	sel, err := selectDebs(cfg, log, pkgs.Debs, pkgs.Named, rest)
	if err != nil {
		return nil, err
	}
	pkgEntries = append(pkgEntries, sel.Entries...)
	if len(sel.Entries) > 0 {
		cache, err := ldCache(append(rest, sel.Entries...))
		if err != nil {
			return nil, err
		}
		pkgEntries = append(pkgEntries, cache)
	}
	for _, d := range sel.Used {
		log.Info("debian package", "name", d.Package, "version", d.Version, "files", d.Files, "why", d.Why)
	}
	if len(sel.Dropped) > 0 {
		log.Info("debian packages left out: nothing that runs needs them", "packages", strings.Join(sel.Dropped, " "))
	}
	zstdVersion := toolVersion(ctx, "zstd")
	pk := packer{cache: cache, version: zstdVersion}
	cmdline := strings.TrimSpace(prof.Cmdline + " " + o.Append)
	var parts [][]entry // the initramfs: base, config, packages, modules
	var root []byte     // the disk format's root file system
	var initMods []string
	modsRaw := int64(0)
	if format == FormatDisk || format == FormatUpdate {
		// The system lives on a squashfs root; the initramfs holds only
		// what finds and mounts it: unit and the disk and file system
		// modules, which the root carries too (one modules.dep for both).
		boot, err := prof.rootModules(k.Modules)
		if err != nil {
			return nil, fmt.Errorf("%s: disk format: %w", cfg.System.Pos, err)
		}
		// On the root too: what a machine needs to take updates (the
		// ESP's FAT) and to be reset when a trial boot hangs (softdog).
		rootMods := append(append(append([]string(nil), mods.Names...), boot...), prof.present(k.Modules, updateModules)...)
		if mods, err = selectModules(k.Modules, k.Release, rootMods); err != nil {
			return nil, fmt.Errorf("%s: [system] modules: %w", cfg.System.Pos, err)
		}
		bootMods, err := selectModules(k.Modules, k.Release, boot)
		if err != nil {
			return nil, fmt.Errorf("disk format: root modules: %w", err)
		}
		initMods, modsRaw = bootMods.Names, bootMods.Size
		log.Info("making the root file system", "modules", strings.Join(mods.Names, ","), "applets", len(bbEntries)-1)
		rm := rootfsMaker{cache: cache, version: toolVersion(ctx, "squashfs-tools")}
		tree := append(append(append(append([]entry(nil), base...), conf...), pkgEntries...), mods.Entries...)
		if root, err = rm.build(ctx, tree, mtime); err != nil {
			return nil, err
		}
		parts = [][]entry{stage1Entries(unitBin), nil, nil, bootMods.Entries}
		cmdline = strings.TrimSpace(prof.Cmdline + " " + rootCmdline(cfg.System.Hostname) + " " + o.Append)
		log.Info("packing initramfs", "modules", strings.Join(initMods, ","))
	} else {
		parts = [][]entry{base, conf, pkgEntries, mods.Entries}
		modsRaw = mods.Size
		log.Info("packing initramfs", "modules", strings.Join(mods.Names, ","), "applets", len(bbEntries)-1)
	}
	// Four archives, compressed side by side and concatenated: the base
	// system, its config, the packages' files, the modules. Each size is
	// then an honest account of what that part costs.
	segs, err := pk.packSegments(ctx, parts, mtime)
	if err != nil {
		return nil, fmt.Errorf("initramfs: %w", err)
	}
	full := bytes.Join(segs, nil)

	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	vmlinuz, err := os.ReadFile(k.Vmlinuz)
	if err != nil {
		return nil, fmt.Errorf("kernel: %w", err)
	}
	res := &Result{
		Vmlinuz:        filepath.Join(o.Out, VmlinuzName),
		Initramfs:      filepath.Join(o.Out, InitramfsName),
		Hostname:       cfg.System.Hostname,
		Release:        release,
		Kernel:         k.Pkg,
		KernelVersion:  k.Release,
		KernelSource:   kernelSource,
		Busybox:        bb.Pkg,
		Fleet:          fleetFile,
		Packages:       pkgs.Kegs,
		Debs:           sel.Used,
		DroppedDebs:    sel.Dropped,
		Overrides:      sel.Overrides,
		Cmdline:        cmdline,
		Format:         format,
		Hardware:       prof.Name,
		Modules:        mods.Names,
		Compressor:     Package{Name: "zstd", Version: zstdVersion},
		InitramfsSize:  int64(len(full)),
		BaseSize:       int64(len(segs[0]) + len(segs[1])),
		PackagesSize:   int64(len(segs[2])),
		BareSize:       int64(len(segs[0]) + len(segs[1]) + len(segs[2])),
		ModulesSize:    int64(len(segs[3])),
		ModulesRawSize: modsRaw,
	}
	if res.Modules == nil {
		res.Modules = []string{}
	}
	res.Kernel.SHA256 = debSHA256(ctx, res.Kernel)
	res.Busybox.SHA256 = debSHA256(ctx, res.Busybox)
	for _, f := range []struct {
		name string
		data []byte
	}{{VmlinuzName, vmlinuz}, {InitramfsName, full}} {
		if err := writeAtomic(filepath.Join(o.Out, f.name), f.data, 0o644); err != nil {
			return nil, err
		}
		sum := sha256.Sum256(f.data)
		res.Files = append(res.Files, File{Name: f.name, Size: int64(len(f.data)), SHA256: hex.EncodeToString(sum[:])})
	}
	if format == FormatDisk || format == FormatUpdate {
		if err := buildDiskImage(ctx, log, o.Out, format, cfg.System, res, vmlinuz, full, root, mtime); err != nil {
			return nil, err
		}
		res.Disk.InitramfsModules = initMods
	}
	manifest, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeAtomic(filepath.Join(o.Out, ManifestName), append(manifest, '\n'), 0o644); err != nil {
		return nil, err
	}
	if format == FormatUpdate {
		id, size, err := writeBundle(o.Out, res)
		if err != nil {
			return nil, err
		}
		res.Disk.Bundle, res.Disk.BundleSize, res.Disk.BundleID = update.BundleName, size, id
		log.Info("update bundle", "path", filepath.Join(o.Out, update.BundleName), "size", size, "id", id, "release", res.Release)
	}
	log.Info("built", "dir", o.Out, "initramfs", res.InitramfsSize, "base", res.BaseSize, "packages", res.PackagesSize, "modules", res.ModulesSize)
	return res, nil
}

// cacheDir picks the download cache: explicit, else pkgbuild's default
// ($UNIT_CACHE, or the user's cache directory), so kegs, downloads and
// image parts share one place.
func cacheDir(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	return pkgbuild.DefaultCache()
}

// sourceDateEpoch is the mtime of every archive member: SOURCE_DATE_EPOCH
// when set (the reproducible-builds convention), else 0.
func sourceDateEpoch() (int64, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > 0xffffffff {
		return 0, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970 that fit in 32 bits", s)
	}
	return v, nil
}

// writeAtomic replaces path with data so readers see the old file or the
// new one, never a torn write. The build writes where its user points it:
// the path is resolved as the kernel does (safepath.Trusted).
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	return safepath.WriteFile(path, data, mode, -1, -1, safepath.Trusted())
}

// Package image turns a system description into a bootable kernel and
// initramfs, a disk image or an update bundle, and boots them in qemu.
package image

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"

	"github.com/unit-os/unit/pkgbuild"
	"github.com/unit-os/unit/safepath"
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
	System string // path to SYSTEM.toml
	Out    string // output directory
	Init   string // the static unit binary installed as /init
	// Helper runs package builds' sandbox (pkgbuild.Options.Helper): a
	// program that calls pkgbuild.ServeSandbox first. Default: this
	// program, which is unit-build (not Init: the image's unit has no
	// builders).
	Helper   string
	CacheDir string // default: $UNIT_CACHE, else $XDG_CACHE_HOME/unit, else ~/.cache/unit
	Store    string // package store for [system] packages; default: CacheDir/store
	Format   string // FormatInitramfs (default), FormatDisk or FormatUpdate
	Recipes  string // recipes for [system] packages; default: the nearest packages/ above System or the working dir
	// Release packs at the strongest level (the smallest image), as
	// [system] compression = "release" does; default fast.
	Release bool
	// Append is added to the profile's kernel command line (in the UKI for
	// the disk format; `unit image run --append` does it for -kernel
	// boots), e.g. "unit.watchdog=10s".
	Append string
	// Fleet is the unit-fleet program, put in as /bin/unit-fleet when the
	// system has [fleet] agent = true (and only then: a system without
	// it carries nothing of NATS).
	Fleet string
	// Notes gets what the services' unit files declare that unit does
	// not honour, one "FILE:LINE: Key= not honoured: why" line each
	// (nil: not shown).
	Notes io.Writer
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
	// (and so the image's bytes) depends on the version, and on the
	// level: Compression ("fast" or "release") and Level (zstd's, for
	// the initramfs and the squashfs root).
	Compressor  Package `json:"compressor"`
	Compression string  `json:"compression"`
	Level       int     `json:"compression_level"`

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

// Build assembles the kernel and initramfs (and the disk image or update
// bundle of those formats) for o.System into o.Out, in four stages:
// resolve the inputs (the system, its profile, the kernel, busybox,
// packages, modules), assemble the image's files, pack them (initramfs,
// and the squashfs root of the disk formats), write the outputs and the
// manifest.
func Build(ctx context.Context, o Options) (*Result, error) {
	in, err := resolve(ctx, o)
	if err != nil {
		return nil, err
	}
	defer in.units.Close()
	t, err := assemble(ctx, in)
	if err != nil {
		return nil, err
	}
	p, err := pack(ctx, in, t)
	if err != nil {
		return nil, err
	}
	return write(ctx, in, t, p)
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

package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/unit-os/unit/update"
)

// write puts the packed image into o.Out: the kernel and initramfs, the
// disk image or update bundle of those formats, and the manifest.
func write(ctx context.Context, in *inputs, t *layout, p *packed) (*Result, error) {
	out, log := in.o.Out, in.log
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	vmlinuz, err := os.ReadFile(in.kernel.Vmlinuz)
	if err != nil {
		return nil, fmt.Errorf("kernel: %w", err)
	}
	res := result(ctx, in, t, p)
	for _, f := range []struct {
		name string
		data []byte
	}{{VmlinuzName, vmlinuz}, {InitramfsName, p.initramfs}} {
		if err := writeAtomic(filepath.Join(out, f.name), f.data, 0o644); err != nil {
			return nil, err
		}
		sum := sha256.Sum256(f.data)
		res.Files = append(res.Files, File{Name: f.name, Size: int64(len(f.data)), SHA256: hex.EncodeToString(sum[:])})
	}
	if in.format == FormatDisk || in.format == FormatUpdate {
		if err := buildDiskImage(ctx, log, out, in.format, in.cfg.System, res, vmlinuz, p.initramfs, p.root, in.mtime); err != nil {
			return nil, err
		}
		res.Disk.InitramfsModules = p.initMods
	}
	manifest, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeAtomic(filepath.Join(out, ManifestName), append(manifest, '\n'), 0o644); err != nil {
		return nil, err
	}
	if in.format == FormatUpdate {
		id, size, err := writeBundle(out, res)
		if err != nil {
			return nil, err
		}
		res.Disk.Bundle, res.Disk.BundleSize, res.Disk.BundleID = update.BundleName, size, id
		log.Info("update bundle", "path", filepath.Join(out, update.BundleName), "size", size, "id", id, "release", res.Release)
	}
	log.Info("built", "dir", out, "initramfs", res.InitramfsSize, "base", res.BaseSize, "packages", res.PackagesSize, "modules", res.ModulesSize)
	return res, nil
}

// result describes the build, before its files are written.
func result(ctx context.Context, in *inputs, t *layout, p *packed) *Result {
	out, segs := in.o.Out, p.segs
	res := &Result{
		Vmlinuz:        filepath.Join(out, VmlinuzName),
		Initramfs:      filepath.Join(out, InitramfsName),
		Hostname:       in.cfg.System.Hostname,
		Release:        t.release,
		Kernel:         in.kernel.Pkg,
		KernelVersion:  in.kernel.Release,
		KernelSource:   in.kernelSource,
		Busybox:        in.busybox.Pkg,
		Fleet:          t.fleet,
		Packages:       in.pkgs.Kegs,
		Debs:           t.debs.Used,
		DroppedDebs:    t.debs.Dropped,
		Overrides:      t.debs.Overrides,
		Cmdline:        p.cmdline,
		Format:         in.format,
		Hardware:       in.prof.Name,
		Modules:        p.mods.Names,
		Compressor:     p.compressor,
		InitramfsSize:  int64(len(p.initramfs)),
		BaseSize:       int64(len(segs[0]) + len(segs[1])),
		PackagesSize:   int64(len(segs[2])),
		BareSize:       int64(len(segs[0]) + len(segs[1]) + len(segs[2])),
		ModulesSize:    int64(len(segs[3])),
		ModulesRawSize: p.modsRaw,
	}
	if res.Modules == nil {
		res.Modules = []string{}
	}
	res.Kernel.SHA256 = debSHA256(ctx, res.Kernel)
	res.Busybox.SHA256 = debSHA256(ctx, res.Busybox)
	return res
}

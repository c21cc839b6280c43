package image

import (
	"context"
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
	res := result(ctx, in, t, p)
	sums := in.sums()
	kernelSum, kernelSize, err := sums.of(in.kernel.Vmlinuz)
	if err != nil {
		return nil, fmt.Errorf("kernel: %w", err)
	}
	kernel := part{Path: in.kernel.Vmlinuz, Size: kernelSize, SHA256: kernelSum}
	// The initramfs is its archives end to end; its hash is theirs read
	// once more (the cache has them, warm).
	initramfs, err := sums.joinedSum(p.segs)
	if err != nil {
		return nil, fmt.Errorf("initramfs: %w", err)
	}
	for _, f := range []struct {
		name  string
		sum   string
		size  int64
		parts []part
	}{{VmlinuzName, kernelSum, kernelSize, []part{kernel}}, {InitramfsName, initramfs.SHA256, initramfs.Size, p.segs}} {
		if err := sums.writeOutput(filepath.Join(out, f.name), f.sum, f.size, f.parts); err != nil {
			return nil, err
		}
		res.Files = append(res.Files, File{Name: f.name, Size: f.size, SHA256: f.sum})
	}
	if in.format == FormatDisk || in.format == FormatUpdate {
		if err := writeDiskFiles(ctx, in, p, res, kernel, initramfs); err != nil {
			return nil, err
		}
	}
	manifest, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := sums.writeIfChanged(filepath.Join(out, ManifestName), append(manifest, '\n')); err != nil {
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
		Compression:    p.comp.Name,
		Level:          p.comp.Level,
		InitramfsSize:  segs[0].Size + segs[1].Size + segs[2].Size + segs[3].Size,
		BaseSize:       segs[0].Size + segs[1].Size,
		PackagesSize:   segs[2].Size,
		BareSize:       segs[0].Size + segs[1].Size + segs[2].Size,
		ModulesSize:    segs[3].Size,
		ModulesRawSize: p.modsRaw,
	}
	if res.Modules == nil {
		res.Modules = []string{}
	}
	if res.Kernel.SHA256 == "" {
		res.Kernel.SHA256 = debSHA256(ctx, in.cache, res.Kernel)
	}
	if res.Busybox.SHA256 == "" {
		res.Busybox.SHA256 = debSHA256(ctx, in.cache, res.Busybox)
	}
	return res
}

// writeDiskFiles makes the disk formats' files in DIR (root, UKI, and the disk
// image of the disk format) unless the last build into DIR made them from
// the same inputs and they are unchanged since (disk_memo.go).
func writeDiskFiles(ctx context.Context, in *inputs, p *packed, res *Result, kernel, initramfs part) error {
	s, out := in.sums(), in.o.Out
	tools := []string{s.toolVersion(ctx, "systemd-boot-efi"), s.toolVersion(ctx, "squashfs-tools"), s.toolVersion(ctx, "mtools"), s.toolVersion(ctx, "e2fsprogs")}
	key, keyErr := diskKey(s, in.format, in.cfg.System, res, kernel, initramfs, p.root, tools, in.mtime)
	n := len(res.Files)
	if m, ok := s.disk(out, key); keyErr == nil && ok {
		res.Disk = m.Disk
		res.Files = append(res.Files, m.Files...)
		in.log.Info("disk image unchanged", "dir", out)
	} else {
		vmlinuz, err := kernel.bytes()
		if err != nil {
			return fmt.Errorf("kernel: %w", err)
		}
		initrd, err := joinBytes(p.segs)
		if err != nil {
			return fmt.Errorf("initramfs: %w", err)
		}
		root, err := p.root.bytes()
		if err != nil {
			return fmt.Errorf("root file system: %w", err)
		}
		if err := buildDiskImage(ctx, in.log, out, in.format, in.cfg.System, res, vmlinuz, initrd, root, in.mtime); err != nil {
			return err
		}
		if keyErr == nil {
			s.noteDisk(out, key, res.Disk, res.Files[n:])
		}
	}
	res.Disk.InitramfsModules = p.initMods
	return nil
}

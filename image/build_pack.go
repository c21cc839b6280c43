package image

import (
	"context"
	"fmt"
	"strings"
)

// packed is the compressed image: the initramfs and, for the disk
// formats, the squashfs root.
type packed struct {
	segs       []part // the initramfs's four archives: base, config, packages, modules (concatenated, the initramfs)
	root       part   // the disk formats' root file system
	mods       *moduleSet
	initMods   []string // the disk formats' initramfs modules
	modsRaw    int64
	cmdline    string
	compressor Package
	comp       compression
}

// pack compresses the tree: for the initramfs format all of it into the
// initramfs; for the disk formats into a squashfs root, with an initramfs
// that only mounts it.
func pack(ctx context.Context, in *inputs, t *layout) (*packed, error) {
	zstdVersion := in.sums().toolVersion(ctx, "zstd")
	pk := packer{cache: in.cache, version: zstdVersion, comp: in.comp}
	p := &packed{
		mods:       in.mods,
		cmdline:    strings.TrimSpace(in.prof.Cmdline + " " + in.o.Append),
		compressor: Package{Name: "zstd", Version: zstdVersion},
		comp:       in.comp,
	}
	var parts [][]entry // the initramfs: base, config, packages, modules
	if in.format == FormatDisk || in.format == FormatUpdate {
		var err error
		if parts, err = p.packRoot(ctx, in, t); err != nil {
			return nil, err
		}
	} else {
		parts = [][]entry{t.base, t.conf, t.pkgs, p.mods.Entries}
		p.modsRaw = p.mods.Size
		in.log.Info("packing initramfs", "compression", in.comp.String(), "modules", strings.Join(p.mods.Names, ","), "applets", t.applets)
	}
	// Four archives, compressed side by side and concatenated: the base
	// system, its config, the packages' files, the modules. Each size is
	// then an honest account of what that part costs.
	segs, err := pk.packSegments(ctx, parts, in.mtime)
	if err != nil {
		return nil, fmt.Errorf("initramfs: %w", err)
	}
	p.segs = segs
	return p, nil
}

// packRoot makes the disk formats' squashfs root and returns the parts of
// their initramfs. The system lives on the root; the initramfs holds only
// what finds and mounts it: unit and the disk and file system modules,
// which the root carries too (one modules.dep for both).
func (p *packed) packRoot(ctx context.Context, in *inputs, t *layout) ([][]entry, error) {
	k, prof, sys := in.kernel, in.prof, in.cfg.System
	boot, err := prof.rootModules(k.Modules)
	if err != nil {
		return nil, fmt.Errorf("%s: disk format: %w", sys.Pos, err)
	}
	// On the root too: what a machine needs to take updates (the
	// ESP's FAT) and to be reset when a trial boot hangs (softdog).
	rootMods := append(append(append([]string(nil), p.mods.Names...), boot...), prof.present(k.Modules, updateModules)...)
	if p.mods, err = selectModules(k.Modules, k.Release, rootMods); err != nil {
		return nil, fmt.Errorf("%s: [system] modules: %w", sys.Pos, err)
	}
	bootMods, err := selectModules(k.Modules, k.Release, boot)
	if err != nil {
		return nil, fmt.Errorf("disk format: root modules: %w", err)
	}
	p.initMods, p.modsRaw = bootMods.Names, bootMods.Size
	in.log.Info("making the root file system", "modules", strings.Join(p.mods.Names, ","), "applets", t.applets)
	rm := rootfsMaker{cache: in.cache, version: in.sums().toolVersion(ctx, "squashfs-tools"), comp: in.comp}
	files := append(append(append(append([]entry(nil), t.base...), t.conf...), t.pkgs...), p.mods.Entries...)
	if p.root, err = rm.build(ctx, files, in.mtime); err != nil {
		return nil, err
	}
	p.cmdline = strings.TrimSpace(prof.Cmdline + " " + rootCmdline(sys.Hostname) + " " + in.o.Append)
	in.log.Info("packing initramfs", "modules", strings.Join(p.initMods, ","))
	return [][]entry{stage1Entries(in.unitBin), nil, nil, bootMods.Entries}, nil
}

//go:build builders

package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/image"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func cmdImage(args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, groupUsage("image"))
		return exitCode(2)
	}
	if isHelp(args[0]) {
		fmt.Println(groupUsage("image"))
		return nil
	}
	ctx, cancel := interruptible()
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	switch args[0] {
	case "build":
		fs := newFlags("image build")
		out := fs.String("o", "", "output directory")
		cache := fs.String("cache", "", "download cache (default: $UNIT_CACHE or ~/.cache/unit)")
		format := fs.String("format", image.FormatInitramfs, "initramfs (kernel + initramfs), disk (GPT disk: UEFI, systemd-boot, A/B root slots) or update (the bundle unit update takes)")
		fleetBin := fs.String("fleet", "", "the unit-fleet program for a system with [fleet] agent = true (default: unit-fleet beside unit)")
		release := fs.Bool("release", false, "pack at the strongest compression (the smallest image, slower), as [system] compression = \"release\"")
		pos, err := parse(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 || *out == "" {
			return errUsage("image build")
		}
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find own binary: %w", err)
		}
		initBin, err := imageInit(self)
		if err != nil {
			return err
		}
		if *fleetBin == "" {
			if p := filepath.Join(filepath.Dir(self), "unit-fleet"); isRegular(p) {
				*fleetBin = p
			}
		}
		res, err := image.Build(ctx, image.Options{System: pos[0], Out: *out, Init: initBin, CacheDir: *cache, Format: *format, Fleet: *fleetBin, Release: *release, Notes: os.Stderr, Log: log})
		if err != nil {
			return err
		}
		printManifest(res, *out)
		return nil
	case "test":
		return cmdImageTest(ctx, log, args[1:])
	case "run":
		fs := newFlags("image run")
		mem := fs.String("m", "512M", "guest memory")
		appendArgs := fs.String("append", "", "extra kernel command line (initramfs format)")
		format := fs.String("format", "", "boot DIR's disk or its kernel + initramfs (default: the disk if DIR has one)")
		nic := fs.String("nic", "", "qemu NIC model (default virtio-net-pci; e.g. e1000e)")
		bus := fs.String("disk-bus", "", "virtio (default) or ahci")
		reboot := fs.Bool("reboot", false, "a guest reboot reboots (as after unit update); by default qemu exits")
		var fwd listFlag
		fs.Var(&fwd, "forward", "HOST:GUEST TCP port forward from 127.0.0.1 (repeatable)")
		pos, err := parse(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return errUsage("image run")
		}
		// The guest's control socket, for `unit --machine DIR COMMAND`.
		if err := api.EnsureMachineDir(pos[0]); err != nil {
			return err
		}
		return image.Run(context.Background(), pos[0], image.RunOptions{
			Memory: *mem, Append: *appendArgs, Format: *format, Forward: fwd, NIC: *nic, DiskBus: *bus,
			Control: api.MachineSocket(pos[0]), Reboot: *reboot,
			Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		})
	}
	return unknownSubcommand("image", args[0])
}

// printManifest says what went into the image (the same facts as
// DIR/manifest.json).
func printManifest(res *image.Result, dir string) {
	fmt.Printf("image %s (%s, %s hardware)\n", dir, res.Format, res.Hardware)
	fmt.Printf("  kernel    %s (%s %s sha256:%s)\n", res.KernelVersion, res.Kernel.Name, res.Kernel.Version, short(res.Kernel.SHA256))
	fmt.Printf("  busybox   %s %s sha256:%s\n", res.Busybox.Name, res.Busybox.Version, short(res.Busybox.SHA256))
	for _, p := range res.Packages {
		fmt.Printf("  package   %s %s keg:%s\n", p.Name, p.Version, short(p.KegHash))
	}
	if len(res.Debs) > 0 {
		fmt.Printf("  debian    %d packages used, %d of the closure left out (manifest.json: debs, dropped_debs)\n", len(res.Debs), len(res.DroppedDebs))
	}
	for _, o := range res.Overrides {
		kind := "file"
		if o.Conffile {
			kind = "conffile"
		}
		fmt.Printf("  override  %s (%s %s) by %s\n", o.Path, o.Package, kind, o.By)
	}
	fmt.Printf("  modules   %d (%d bytes raw, %d compressed)\n", len(res.Modules), res.ModulesRawSize, res.ModulesSize)
	fmt.Printf("  cmdline   %s\n", res.Cmdline)
	if d := res.Disk; d != nil {
		fmt.Printf("  stub      %s %s sha256:%s\n", d.Stub.Name, d.Stub.Version, short(d.StubSHA256))
		if d.ESPSize > 0 {
			fmt.Printf("  esp       %d bytes: systemd-boot sha256:%s, UKI %d bytes\n", d.ESPSize, short(d.LoaderSHA256), d.UKISize)
		}
		for _, sl := range d.Slots {
			what := "empty until an update"
			if sl.Name == "a" {
				what = fmt.Sprintf("root %d bytes squashfs", d.RootSize)
			}
			fmt.Printf("  slot %s    partition %d (%d bytes), PARTUUID %s: %s\n", sl.Name, sl.Partition, d.SlotSize, sl.PARTUUID, what)
		}
		if d.Bundle != "" {
			fmt.Printf("  bundle    %s %d bytes (root %d bytes squashfs, UKI %d), id %s\n", d.Bundle, d.BundleSize, d.RootSize, d.UKISize, d.BundleID)
		}
		if d.DataSize > 0 {
			fmt.Printf("  data      %d bytes, ext4 label %s, mounted at %s\n", d.DataSize, d.DataLabel, d.DataMount)
		}
		switch {
		case d.Reimaged && d.DataSize > 0:
			fmt.Printf("  re-image  the ESP and the root were rewritten; the data partition was kept\n")
		case d.Reimaged:
			fmt.Printf("  re-image  the ESP and the root were rewritten\n")
		}
	}
	fmt.Printf("  initramfs %d bytes zstd: base %d, packages %d, modules %d\n", res.InitramfsSize, res.BaseSize, res.PackagesSize, res.ModulesSize)
	for _, f := range res.Files {
		fmt.Printf("  %-18s %10d sha256:%s\n", f.Name, f.Size, f.SHA256)
	}
}

// short is the first 16 hex digits of a hash, or "?" when unknown.
func short(h string) string {
	if len(h) < 16 {
		return "?"
	}
	return h[:16]
}

package pid1

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/disk"
	"github.com/unit-os/unit/update"
)

// wantsRoot says whether this PID 1 is the disk format's first stage: the
// kernel command line names a root partition and / is still the
// initramfs. unit on the root sees the same command line but an overlay
// as /, and boots the system.
func wantsRoot(cmdline string) (update.RootSpec, bool, error) {
	spec, ok, err := update.RootSpecFrom(cmdline)
	if !ok || !isInitramfs() {
		return spec, false, nil
	}
	return spec, true, err
}

// kernelCmdline is /proc/cmdline ("" when it cannot be read).
func kernelCmdline() string {
	b, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// bootRoot is the first stage of the disk format: load the drivers for
// the disks present (cold-plug, and hotplug for disks that show up late),
// find the root partition by its PARTUUID, mount it with a writable layer
// over it, make it / and execute its /init (unit again, as PID 1). It
// returns only when something failed, with what was looked for.
func bootRoot(log *slog.Logger, console io.Writer, spec update.RootSpec) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := newPlugger(log, console)
	if err != nil {
		return fmt.Errorf("modules: %w", err)
	}
	go p.hotplug(ctx)
	p.coldplug()
	if _, err := p.loader.Load(disk.RootFilesystems...); err != nil {
		return fmt.Errorf("modules for the root: %w", err)
	}
	dev, err := disk.System().WaitPartition(ctx, spec.PARTUUID, spec.Wait)
	if err != nil {
		return err
	}
	if err := mountRoot(dev); err != nil {
		return fmt.Errorf("root PARTUUID=%s: %w", spec.PARTUUID, err)
	}
	fmt.Fprintf(console, "unit: root PARTUUID=%s is %s: %s read-only under a tmpfs overlay; switching to it (%.3fs after kernel start)\n",
		spec.PARTUUID, dev, rootFSType, bootTime().Seconds())
	if err := switchRoot(sysroot); err != nil {
		return err
	}
	cancel() // the hotplug listener's socket is closed on exec anyway
	err = unix.Exec(rootInit, os.Args, os.Environ())
	return fmt.Errorf("exec %s on the root: %w", rootInit, err)
}

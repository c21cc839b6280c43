package pid1

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/update"
)

// devicesUp loads drivers for the devices present (and, from then on,
// for devices that appear), then mounts the data partition if the
// system has one: its disk's driver is among those cold-plug loads.
func devicesUp(log *slog.Logger, console io.Writer, cfg *config.Config) {
	p, err := newPlugger(log, console)
	if err != nil {
		log.Warn("no module cold-plug", "err", err)
	} else {
		go p.hotplug(context.Background())
		p.coldplug()
	}
	if d := cfg.System.Data; d != nil {
		if _, onDisk, _ := update.RootSpecFrom(kernelCmdline()); !onDisk {
			// Booted from an initramfs image (PXE, qemu -kernel): the
			// system has no disk of its own and /var is RAM.
			log.Info("no data partition: booted without a root partition", "mount", d.MountPoint(), "label", d.FSLabel())
			fmt.Fprintf(console, "unit: no data partition (booted without a root partition): %s is in RAM\n", d.MountPoint())
			return
		}
		dev, err := mountData(d)
		if err != nil {
			log.Error("data partition", "err", err)
			return
		}
		log.Info("data partition mounted", "device", dev, "on", d.MountPoint(), "label", d.FSLabel())
		fmt.Fprintf(console, "unit: data partition %s (label %s) mounted on %s\n", dev, d.FSLabel(), d.MountPoint())
	}
}

package pid1

import (
	"context"
	"log/slog"

	"unit/config"
)

// devicesUp loads drivers for the devices present (and, from then on,
// for devices that appear), then mounts the data partition if the
// system has one: its disk's driver is among those cold-plug loads.
func devicesUp(log *slog.Logger, cfg *config.Config) {
	p, err := newPlugger(log)
	if err != nil {
		log.Warn("no module cold-plug", "err", err)
	} else {
		go p.hotplug(context.Background())
		p.coldplug()
	}
	if d := cfg.System.Data; d != nil {
		if _, onDisk, _ := rootSpecFrom(kernelCmdline()); !onDisk {
			// Booted from an initramfs image (PXE, qemu -kernel): the
			// system has no disk of its own and /var is RAM.
			log.Info("no data partition: booted without a root partition; "+d.MountPoint()+" is in RAM", "label", d.FSLabel())
			return
		}
		dev, err := mountData(d)
		if err != nil {
			log.Error("data partition", "err", err)
			return
		}
		log.Info("data partition mounted", "device", dev, "on", d.MountPoint(), "label", d.FSLabel())
	}
}

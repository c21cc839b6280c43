package pid1

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/kmod"
	"github.com/unit-os/unit/update"
)

// devices is cold-plug under way: the drivers of the devices present load
// while PID 1 reads its configuration, and hotplug loads those of devices
// that appear from then on.
type devices struct {
	p *plugger // nil without a module tree
}

// startDevices starts cold-plug and hotplug and returns at once.
func startDevices(log *slog.Logger, console io.Writer) *devices {
	p, err := newPlugger(log, console)
	if err != nil {
		log.Warn("no module cold-plug", "err", err)
		return &devices{}
	}
	go p.hotplug(context.Background())
	p.start()
	return &devices{p: p}
}

// start runs cold-plug in the background; the channel closes when it is
// over. A panic in it ends cold-plug, never PID 1.
func (p *plugger) start() <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				p.log.Error("cold-plug panic", "panic", r)
			}
		}()
		p.coldplug()
	}()
	return done
}

// waitFor returns once the devices of set present have their drivers
// loaded (bootDevices: what reads block devices, the data partition, the
// NoCloud seed, the root slots, needs the disks' drivers), while
// cold-plug goes on with the others. Without a module tree it returns
// at once: the kernel has what it has.
func (d *devices) waitFor(set deviceSet) {
	if d.p == nil {
		return
	}
	defer func() {
		// A panic here ends the wait, never PID 1.
		if r := recover(); r != nil {
			d.p.log.Error("device wait panic", "panic", r)
		}
	}()
	d.p.settleFor(set)
}

// dataUp mounts the data partition if the system has one: its disk's
// driver is among those cold-plug loads.
func dataUp(log *slog.Logger, console io.Writer, cfg *config.Config) {
	d := cfg.System.Data
	if d == nil {
		return
	}
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

// loadModules loads the [system] modules before the services start,
// except those cold-plug or hotplug claimed for a device present: they
// load as that device's driver (a virtio_pci probe is hundreds of
// milliseconds under emulation), and waiting for them here would be
// waiting for every device again. It returns the modules inserted and
// those left to the devices.
func (d *devices) loadModules(names []string) (loaded, withDevices []string, err error) {
	if d.p == nil {
		l, err := kmod.NewLoader("")
		if err != nil {
			return nil, nil, err
		}
		loaded, err = l.Load(names...)
		return loaded, nil, err
	}
	var errs []error
	for _, m := range names {
		if !d.p.claimModule(m) {
			withDevices = append(withDevices, m)
			continue
		}
		got, err := d.p.insertClaimed(m)
		loaded = append(loaded, got...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return loaded, withDevices, errors.Join(errs...)
}

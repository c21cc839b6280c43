package image

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/disk"
)

// Output formats of a build.
const (
	FormatInitramfs = "initramfs" // kernel + initramfs, for qemu -kernel and PXE
	FormatDisk      = "disk"      // a GPT disk with a UKI on its ESP, for UEFI firmware
	FormatUpdate    = "update"    // the disk format's UKI and root as an update bundle
)

func checkFormat(f string) (string, error) {
	switch f {
	case "", FormatInitramfs:
		return FormatInitramfs, nil
	case FormatDisk, FormatUpdate:
		return f, nil
	}
	return "", fmt.Errorf("image format %q: want %q, %q or %q", f, FormatInitramfs, FormatDisk, FormatUpdate)
}

// profile is what a [system] hardware value means for the image.
type profile struct {
	Name       string
	KernelMeta string
	Cmdline    string
	// Drivers are modules added to [system] modules when the kernel has
	// them; unit loads those whose device is present (modalias cold-plug).
	Drivers []string
	// Required are the drivers without which the profile makes no sense:
	// a kernel from a keg that lacks one is refused, not silently used.
	Required []string
	// RootDrivers are the disk drivers the disk format's initramfs
	// carries (those the kernel has), to find the root partition.
	RootDrivers []string
}

// vmRootDrivers are the disks a hypervisor offers: virtio (blk, scsi),
// NVMe and AHCI (the last two are absent from the cloud kernel or built
// in, and then need no file).
var vmRootDrivers = []string{"virtio_pci", "virtio_blk", "virtio_scsi", "sd_mod", "nvme", "ahci"}

// metalRootDrivers add USB storage (a root on a stick) and the USB host
// controllers it sits behind.
var metalRootDrivers = append(append([]string(nil), vmRootDrivers...),
	"usb_storage", "uas", "xhci_pci", "ehci_pci", "ohci_pci", "uhci_hcd")

// metalDrivers are the modules real x86 machines commonly need: disks
// (NVMe, AHCI/SATA, USB storage), USB host controllers and keyboards,
// common Intel and Realtek NICs, a watchdog, and virtio for hypervisors.
var metalDrivers = []string{
	"nvme", "ahci", "sd_mod", "usb_storage", "uas", "virtio_console",
	"xhci_pci", "ehci_pci", "ohci_pci", "uhci_hcd", "usbhid", "hid_generic",
	"e1000e", "e1000", "igb", "ixgbe", "r8169",
	"i6300esb", // the Intel 6300ESB watchdog, also what qemu and libvirt offer
	"virtio_pci", "virtio_blk", "virtio_net", "virtio_scsi", "virtio_rng",
	"ext4", "crc32c_generic",
}

// hardwareProfile maps [system] hardware to a kernel and its drivers.
func hardwareProfile(sys config.System, format string) (*profile, error) {
	switch sys.Hardware {
	case "", "vm":
		// virtio-rng feeds the kernel's CRNG: without it (and without
		// RDRAND, which qemu's TCG CPU lacks) getrandom(2) blocks for a
		// long time after boot, and with it Go's crypto/rand.
		// virtio_blk and the seed's file systems: a machine learns who it
		// is from a NoCloud seed (a small disk labelled cidata), and the
		// disk format's data partition is a virtio disk too.
		drivers := append([]string{"virtio_pci", "virtio_rng", "virtio_console", "virtio_blk"}, disk.SeedModules...)
		return &profile{Name: "vm", KernelMeta: kernelMeta, Cmdline: Cmdline, Drivers: drivers,
			Required: []string{"virtio_pci"}, RootDrivers: vmRootDrivers}, nil
	case "metal":
		return &profile{
			Name:       "metal",
			KernelMeta: kernelMetaMetal,
			// The last console= is /dev/console (unit's output): serial,
			// with the kernel's messages on the screen too.
			Cmdline: "console=tty0 console=ttyS0,115200 panic=10",
			Drivers: append(append([]string(nil), metalDrivers...), disk.SeedModules...),
			// What the cloud kernel lacks and real machines need most.
			Required:    []string{"ahci", "nvme", "usb_storage", "xhci_pci", "e1000e", "r8169"},
			RootDrivers: metalRootDrivers,
		}, nil
	}
	return nil, fmt.Errorf("%s: [system] hardware = %q: want \"vm\" or \"metal\"", sys.Pos, sys.Hardware)
}

// modules is the profile's drivers that the kernel in dir has (as a
// module or built in), then [system] modules, without repeats.
func (p *profile) modules(dir string, user []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range append(p.present(dir, p.Drivers), user...) {
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return out
}

// missing are the profile's required drivers that the kernel whose
// module tree is dir has neither as a module nor built in.
func (p *profile) missing(dir string) []string {
	builtin, _ := os.ReadFile(filepath.Join(dir, "modules.builtin"))
	dep, _ := os.ReadFile(filepath.Join(dir, "modules.dep"))
	var out []string
	for _, m := range p.Required {
		if !kernelHas(dep, builtin, m) {
			out = append(out, m)
		}
	}
	return out
}

// updateModules are what a disk machine loads to take an update: the
// ESP's file system and its code pages, and the soft watchdog a trial
// boot arms when the machine has no hardware one.
var updateModules = append(append([]string(nil), disk.ESPModules...), "softdog")

// present are those of names that the kernel in dir has, as a module or
// built in.
func (p *profile) present(dir string, names []string) []string {
	builtin, _ := os.ReadFile(filepath.Join(dir, "modules.builtin"))
	dep, _ := os.ReadFile(filepath.Join(dir, "modules.dep"))
	var out []string
	for _, m := range names {
		if kernelHas(dep, builtin, m) {
			out = append(out, m)
		}
	}
	return out
}

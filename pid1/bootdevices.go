package pid1

import (
	"strings"

	"github.com/unit-os/unit/config"
)

// deviceSet selects devices by their modalias: those whose drivers the
// boot waits for before it goes on.
type deviceSet struct {
	buses []string // the /sys/bus directories they are found in
	has   func(modalias string) bool
}

// bootDevices are the devices what runs before the services reads:
// storage, for the data partition, the NoCloud seed and the root slots;
// and the NICs too when the configuration names interfaces ([net.NAME]),
// so that their first apply finds them. The others (a NIC nobody
// configures, an entropy source, a console) get their drivers while the
// services start: under emulation a virtio-pci probe alone is hundreds of
// milliseconds.
func bootDevices(cfg *config.Config) deviceSet {
	nics := cfg != nil && len(cfg.Nets) > 0
	return deviceSet{
		buses: []string{"pci", "virtio", "scsi", "usb", "mmc"},
		has: func(a string) bool {
			return storageDevice(a) || nics && networkDevice(a)
		},
	}
}

// storageDevice says whether the device with modalias a is a disk or
// what disks hang off: a PCI mass storage controller (class 01: IDE,
// AHCI, NVMe, virtio-blk and virtio-scsi), a virtio block or SCSI device
// (types 2 and 8), anything on the SCSI bus (disks, CD-ROMs), a USB mass
// storage interface (class 08: found only if its hub was enumerated by
// then; USB disks come later, by hotplug), an MMC card.
func storageDevice(a string) bool {
	bus, rest, _ := strings.Cut(a, ":")
	switch bus {
	case "pci":
		return pciClass(rest) == "01"
	case "virtio":
		return strings.HasPrefix(rest, "d00000002v") || strings.HasPrefix(rest, "d00000008v")
	case "scsi", "mmc":
		return true
	case "usb":
		return field(rest, "ic", 2) == "08"
	}
	return false
}

// networkDevice says whether the device with modalias a is a NIC: a PCI
// network controller (class 02) or a virtio network device (type 1).
func networkDevice(a string) bool {
	bus, rest, _ := strings.Cut(a, ":")
	switch bus {
	case "pci":
		return pciClass(rest) == "02"
	case "virtio":
		return strings.HasPrefix(rest, "d00000001v")
	}
	return false
}

// pciClass is the base class of a PCI modalias
// ("v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00" → "01").
func pciClass(rest string) string { return field(rest, "bc", 2) }

// field is the n characters after key in a modalias's rest: the kernel
// writes keys in lower case and hex digits in upper case, so a key is
// never mistaken for digits.
func field(rest, key string, n int) string {
	i := strings.Index(rest, key)
	if i < 0 || len(rest) < i+len(key)+n {
		return ""
	}
	return rest[i+len(key) : i+len(key)+n]
}

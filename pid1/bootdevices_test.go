package pid1

import (
	"testing"

	"github.com/unit-os/unit/config"
)

// Modaliases as a qemu x86 machine's kernel writes them.
const (
	aliasIDE        = "pci:v00008086d00007010sv00001AF4sd00001100bc01sc01i80"
	aliasVirtioBlkP = "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00"
	aliasVirtioNetP = "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00"
	aliasVirtioRngP = "pci:v00001AF4d00001005sv00001AF4sd00000004bcFFsc00i00"
	aliasVirtioBlk  = "virtio:d00000002v00001AF4"
	aliasVirtioSCSI = "virtio:d00000008v00001AF4"
	aliasVirtioNet  = "virtio:d00000001v00001AF4"
	aliasVirtioRng  = "virtio:d00000004v00001AF4"
	aliasSCSIDisk   = "scsi:t-0x00"
	aliasUSBStorage = "usb:v0781p5567d0100dc00dsc00dp00ic08isc06ip50in00"
	aliasUSBHub     = "usb:v1D6Bp0002d0510dc09dsc00dp00ic09isc00ip00in00"
	aliasUSBKbd     = "usb:v0627p0001d0000dc00dsc00dp00ic03isc01ip01in00"
	aliasACPI       = "acpi:LNXSYSTM:"
	aliasCPU        = "cpu:type:x86,ven0000fam0006mod003F:feature:,0000,0001"
)

func TestStorageDevice(t *testing.T) {
	for a, want := range map[string]bool{
		aliasIDE: true, aliasVirtioBlkP: true, aliasVirtioBlk: true, aliasVirtioSCSI: true,
		aliasSCSIDisk: true, aliasUSBStorage: true, "mmc:block": true,
		aliasVirtioNetP: false, aliasVirtioRngP: false, aliasVirtioNet: false, aliasVirtioRng: false,
		aliasUSBHub: false, aliasUSBKbd: false, aliasACPI: false, aliasCPU: false, "pci:": false, "": false,
	} {
		if got := storageDevice(a); got != want {
			t.Errorf("storageDevice(%q) = %v, want %v", a, got, want)
		}
	}
}

// The NICs are waited for only when the configuration names interfaces.
func TestBootDevicesNICsWhenConfigured(t *testing.T) {
	plain := bootDevices(&config.Config{})
	nets := bootDevices(&config.Config{Nets: map[string]*config.Net{"eth0": {}}})
	for _, a := range []string{aliasVirtioNetP, aliasVirtioNet} {
		if plain.has(a) {
			t.Errorf("%s waited for without [net]", a)
		}
		if !nets.has(a) {
			t.Errorf("%s not waited for with [net.eth0]", a)
		}
	}
	for _, s := range []deviceSet{plain, nets, bootDevices(nil)} {
		if !s.has(aliasVirtioBlk) || s.has(aliasVirtioRng) {
			t.Errorf("disk waited for %v, entropy %v", s.has(aliasVirtioBlk), s.has(aliasVirtioRng))
		}
	}
}

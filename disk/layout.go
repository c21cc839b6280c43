package disk

import (
	"slices"
	"strings"
)

// Kernel command line parameters of the disk format's root.
const (
	// RootParam names the root partition: unit.root=PARTUUID=<uuid>. The
	// image builder writes it into the UKI's command line; unit in the
	// initramfs mounts that partition.
	RootParam = "unit.root"
	// RootWaitParam bounds the wait for that partition: unit.rootwait=30s
	// (or =30, in seconds).
	RootWaitParam = "unit.rootwait"
)

// ESPName is the GPT name of the EFI system partition unit writes.
const ESPName = "EFI System Partition"

// Slots are the root slots' names, as in the GPT partition names
// unit-root-a and unit-root-b.
var Slots = []string{"a", "b"}

// slotPrefix begins a root slot's partition name.
const slotPrefix = "unit-root-"

// PartitionName is the GPT name of a slot's root partition.
func PartitionName(slot string) string { return slotPrefix + slot }

// SlotOf is the slot a GPT partition name is the root of (a or b), or
// false when it names no slot.
func SlotOf(name string) (string, bool) {
	slot, ok := strings.CutPrefix(name, slotPrefix)
	if !ok || !slices.Contains(Slots, slot) {
		return "", false
	}
	return slot, true
}

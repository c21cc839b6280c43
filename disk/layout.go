package disk

import (
	"slices"
	"strings"
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

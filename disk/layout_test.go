package disk_test

import (
	"slices"
	"testing"

	"github.com/unit-os/unit/disk"
)

func TestSlotNames(t *testing.T) {
	for slot, want := range map[string]string{"a": "unit-root-a", "b": "unit-root-b"} {
		if got := disk.PartitionName(slot); got != want {
			t.Errorf("PartitionName(%q) = %q, want %q", slot, got, want)
		}
	}
	if !slices.Equal(disk.Slots, []string{"a", "b"}) {
		t.Errorf("Slots = %q", disk.Slots)
	}
}

// TestSlotOf reads a slot back from its partition name and nothing else:
// a partition named unit-root-c or unit-data is no slot.
func TestSlotOf(t *testing.T) {
	for name, want := range map[string]string{"unit-root-a": "a", "unit-root-b": "b", "unit-root-c": "", "unit-root-": "", "unit-data": "", "EFI System Partition": ""} {
		got, ok := disk.SlotOf(name)
		if got != want || ok != (want != "") {
			t.Errorf("SlotOf(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
}

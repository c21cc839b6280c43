package qemutests

import (
	"slices"
	"testing"
)

// TestSplitLines: a kernel message in the middle of a process's line is
// taken out as its own line and the process's line joined back; a line
// that only ends in a kernel message before another one stays as it was.
func TestSplitLines(t *testing.T) {
	var p splitLines
	var got []string
	for _, l := range []string{"[phases] POST 0:[    3.241498] ACPI: \\_SB_.LNKD: Enabled at IRQ 10", ":/services/phases", "unit: ok",
		"Probing EDD... oc[    0.000000] Linux version 6.1", "[    0.000000] Command line: console=ttyS0"} {
		got = append(got, p.add(l)...)
	}
	want := []string{"[    3.241498] ACPI: \\_SB_.LNKD: Enabled at IRQ 10", "[phases] POST 0::/services/phases", "unit: ok",
		"[    0.000000] Linux version 6.1", "Probing EDD... oc", "[    0.000000] Command line: console=ttyS0"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

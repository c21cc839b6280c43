package execfile

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// PID 1 reads PT_INTERP with this package, so it links neither the image
// builder's ldso nor debug/elf (with debug/dwarf, internal/zstd and
// compress/flate: about 100 KB of a binary that is memory in the guest).
func TestPID1LinksNoDebugELF(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command(gobin, "list", "-deps", "github.com/unit-os/unit/pid1").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, bad := range []string{"debug/elf", "debug/dwarf", "github.com/unit-os/unit/ldso"} {
		if slices.Contains(deps, bad) {
			t.Errorf("pid1 imports %s", bad)
		}
	}
}

package unitfile

import (
	"os"
	osexec "os/exec"
	"regexp"
	"strconv"
	"testing"
)

// PID 1 links this package for every boot, and most boots read no unit
// file: its package init builds no tables (the key handlers are a switch, the
// capability names are built on first use). GODEBUG=inittrace=1 on this
// test binary counts the init's allocations.
func TestInitBuildsNoTables(t *testing.T) {
	cmd := osexec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	m := regexp.MustCompile(`init github.com/unit-os/unit/systemd/unitfile @.*, (\d+) bytes, (\d+) allocs`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no inittrace line for unitfile in:\n%s", out)
	}
	// The capability names' sync.OnceValue; the handler map alone was 126.
	if allocs, _ := strconv.Atoi(string(m[2])); allocs > 4 {
		t.Errorf("unitfile's init: %s bytes, %d allocations", m[1], allocs)
	}
}

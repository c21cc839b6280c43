package config

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
)

// Importing config costs a process next to nothing: PID 1 imports it, and
// so does every unit command. Its init once compiled five regexps and
// built the kinds' schema (429 allocations, 48 KB, about 1 ms); the
// schema is built on first use now. Allocations, not time, are counted:
// this test binary run again, with the runtime's inittrace.
func TestPackageInitIsCheap(t *testing.T) {
	if os.Getenv("CONFIG_INIT_CHILD") != "" {
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPackageInitIsCheap$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1", "CONFIG_INIT_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	m := regexp.MustCompile(`init github.com/unit-os/unit/config @\S+ ms, \S+ ms clock, (\d+) bytes, (\d+) allocs`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no inittrace line for config in:\n%s", out)
	}
	bytes, _ := strconv.Atoi(string(m[1]))
	allocs, _ := strconv.Atoi(string(m[2]))
	if allocs > 40 || bytes > 8<<10 {
		t.Errorf("config's init: %d allocations, %d bytes; want at most 40 and 8 KB", allocs, bytes)
	}
}

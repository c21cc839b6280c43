package supervise

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/unit-os/unit/config"
)

// A service whose cgroup saw an OOM kill since it started is reported
// as out of memory, naming its limit; before that, or without a cgroup,
// nothing is said.
func TestNoteOOM(t *testing.T) {
	cg := t.TempDir()
	events := func(n int) {
		os.WriteFile(filepath.Join(cg, "memory.events"), []byte("low 0\nhigh 0\nmax 7\noom 1\noom_kill "+strconv.Itoa(n)+"\n"), 0o644)
	}
	events(2)
	if got := oomKills(cg); got != 2 {
		t.Fatalf("oomKills = %d", got)
	}
	if got := oomKills(""); got != -1 {
		t.Errorf("no cgroup: %d", got)
	}
	s := &Supervisor{}
	v := &service{cfg: &config.Service{Limits: config.Limits{Memory: 32 << 20}}, cgroup: cg, oomBase: oomKills(cg)}
	s.noteOOM(v)
	if v.killedFor != "" {
		t.Errorf("no new OOM kill, but %q", v.killedFor)
	}
	events(3)
	s.noteOOM(v)
	if v.killedFor != "out of memory (memory limit 33554432 bytes)" {
		t.Errorf("killedFor = %q", v.killedFor)
	}
}

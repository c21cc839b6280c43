package supervise

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unit-os/unit/config"
)

// Output goes to DIR/current with a timestamp per line; a full file is
// archived and only the newest archives are kept.
func TestLogFilesRotate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	h := newHarness(t)
	pad := strings.Repeat("x", 90)
	h.set(map[string]*config.Service{
		"w": {Exec: sh("i=0; while [ $i -lt 300 ]; do echo \"line $i " + pad + "\"; i=$((i+1)); done; echo last; exec sleep 100"),
			Log: config.LogFiles{Dir: dir, MaxSize: 4096, Keep: 2}},
	})
	cur := filepath.Join(dir, "current")
	eventually(t, "last line in current", func() bool {
		b, _ := os.ReadFile(cur)
		return strings.HasSuffix(string(b), " last\n")
	})
	if a := archives(dir); len(a) != 2 {
		t.Errorf("archives %v, want the newest 2", a)
	}
	var total int
	for _, name := range append(archives(dir), "current") {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 4096 {
			t.Errorf("%s is %d bytes, over max_size", name, len(b))
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			ts, _, _ := strings.Cut(line, " ")
			if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
				t.Fatalf("%s: line without timestamp: %q", name, line)
			}
			total++
		}
	}
	// A ~130-byte line (timestamp, text): two full archives hold 31 each,
	// current holds up to 31 more; the rest of the 301 lines were pruned.
	if total < 62 || total > 94 {
		t.Errorf("%d lines kept", total)
	}
	if st := h.status("w"); st.LogDir != dir {
		t.Errorf("status log dir %q", st.LogDir)
	}
}

// Moving the log elsewhere does not restart the service; new lines go to
// the new place.
func TestLogFilesReconfigure(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	h := newHarness(t)
	svc := func(dir string) map[string]*config.Service {
		return map[string]*config.Service{"tick": {Exec: sh("while :; do echo tick; sleep 0.05; done"),
			Log: config.LogFiles{Dir: dir, MaxSize: 1 << 20, Keep: 1}}}
	}
	h.set(svc(a))
	h.rec.wait(t, "tick", "running")
	eventually(t, "lines in a", func() bool { b, _ := os.ReadFile(filepath.Join(a, "current")); return len(b) > 0 })
	h.set(svc(b))
	eventually(t, "lines in b", func() bool { b, _ := os.ReadFile(filepath.Join(b, "current")); return len(b) > 0 })
	if n := h.rec.count("tick", "starting"); n != 1 {
		t.Errorf("started %d times, want once", n)
	}
}

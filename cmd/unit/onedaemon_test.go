package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A second `unit run` on the same state directory, or on the socket of a
// running one, refuses to start: it starts no service and leaves the first
// daemon reachable.
func TestHostSecondRunRefused(t *testing.T) {
	cfgDir, data := t.TempDir(), t.TempDir()
	starts := filepath.Join(data, "starts")
	writeConfig(t, cfgDir, "a.toml", fmt.Sprintf(`
[service.count]
exec = ["/bin/sh", "-c", "echo start >> %s; exec sleep 1000"]
`, starts))
	d := startDaemon(t, cfgDir)
	d.waitState(t, "count", "running")

	second := func(args ...string) string {
		t.Helper()
		// It must refuse at once; one that runs instead is killed at the
		// deadline and fails the test.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, unitBin, append([]string{"run", "--config", cfgDir}, args...)...)
		out, err := cmd.CombinedOutput()
		if ctx.Err() != nil {
			t.Fatalf("second unit run %v did not refuse; it ran:\n%s", args, out)
		}
		if err == nil {
			t.Fatalf("second unit run %v succeeded:\n%s", args, out)
		}
		return string(out)
	}
	out := second("--state", d.state)
	want := fmt.Sprintf("another unit runs with state directory %s (pid %d)", d.state, d.cmd.Process.Pid)
	if !strings.Contains(out, want) {
		t.Errorf("same state dir: got\n%s\nwant %q", out, want)
	}
	out = second("--state", t.TempDir(), "--socket", d.socket)
	if !strings.Contains(out, "a running unit answers on it") {
		t.Errorf("same socket: got\n%s", out)
	}
	if st := d.status(t, "count"); st["state"] != "running" {
		t.Fatalf("first daemon after the refusals: %v", st)
	}
	b, err := os.ReadFile(starts)
	if err != nil || strings.Count(string(b), "start") != 1 {
		t.Fatalf("the service was started %q times (want once): %v", b, err)
	}
}

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHostRelativePaths: `unit run` given relative --config, --state and
// --socket makes them absolute once at start: the reports are kept in
// STATE/reports (a relative state dir made every pass log "report …
// not an absolute path"), the socket answers at its absolute path, and a
// config error names its file by its absolute path.
func TestHostRelativePaths(t *testing.T) {
	base := t.TempDir()
	cfgDir := filepath.Join(base, "cfg")
	if err := os.Mkdir(cfgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeConfig(t, cfgDir, "a.toml", "[service.s]\nexec = [\"sleep\", \"1000\"]\n")
	state := filepath.Join(base, "st1")
	cmd := exec.Command(unitBin, "run", "--config", "cfg", "--state", "st1", "--socket", "st1/x.sock")
	cmd.Dir = base
	// No daemon's variables (a test run as a unit service has them).
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "UNIT_SOCKET=") && !strings.HasPrefix(e, "UNIT_STATE=") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	d := launch(t, cmd, filepath.Join(state, "x.sock"), state)
	d.waitStarted(t)

	// A second pass: a config error, reported with the file's full path.
	writeConfig(t, cfgDir, "a.toml", "[service.s]\nexec = [\"sleep\", \"1000\"]\nnosuch = 1\n")
	var out string
	waitFor(t, 30*time.Second, "the config error in unit health", func() bool {
		out, _ = d.unit("health")
		return strings.Contains(out, "nosuch")
	})
	if !strings.Contains(out, filepath.Join(cfgDir, "a.toml")+":3:") {
		t.Errorf("the config error does not name its file by its absolute path:\n%s", out)
	}
	waitFor(t, 30*time.Second, "two reports in STATE/reports", func() bool {
		reports, _ := filepath.Glob(filepath.Join(state, "reports", "*.json"))
		return len(reports) >= 2
	})
	if out := d.stop(t); strings.Contains(out, "not an absolute path") {
		t.Errorf("unit run logged a relative path:\n%s", out)
	}
}

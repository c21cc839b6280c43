package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/unit-os/unit/api"
)

// unit apply --detailed-exitcodes answers as Puppet's: 0 nothing changed,
// 2 changed, 4 failures, 6 both; without the flag a failure is 1.
func TestApplyDetailedExitCodes(t *testing.T) {
	cfgDir, data := t.TempDir(), t.TempDir()
	blocker := filepath.Join(data, "blocker") // a file where a directory should be
	if err := os.WriteFile(blocker, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(src string) {
		if err := os.WriteFile(filepath.Join(cfgDir, "a.toml"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	apply := func(extra ...string) int {
		args := append([]string{"apply", "--once", "--config", cfgDir}, extra...)
		out, err := exec.Command(unitBin, args...).CombinedOutput()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ee):
			return ee.ExitCode()
		}
		t.Fatalf("unit apply: %v\n%s", err, out)
		return -1
	}
	good := "[file.\"" + filepath.Join(data, "a") + "\"]\ncontent = \"a\\n\"\n"
	bad := "[file.\"" + filepath.Join(blocker, "b") + "\"]\ncontent = \"b\\n\"\n"
	write(good)
	for _, c := range []struct {
		name  string
		extra []string
		want  int
	}{
		{"would change (dry run)", []string{"--dry-run", "--detailed-exitcodes"}, 2},
		{"changes", []string{"--detailed-exitcodes"}, 2},
		{"nothing to change", []string{"--detailed-exitcodes"}, 0},
	} {
		if got := apply(c.extra...); got != c.want {
			t.Errorf("%s: exit %d, want %d", c.name, got, c.want)
		}
	}
	write(good + bad)
	if got := apply("--detailed-exitcodes"); got != 4 {
		t.Errorf("a failure, nothing changed: exit %d, want 4", got)
	}
	if got := apply(); got != 1 {
		t.Errorf("a failure without --detailed-exitcodes: exit %d, want 1", got)
	}
	os.Remove(filepath.Join(data, "a"))
	if got := apply("--detailed-exitcodes"); got != 6 {
		t.Errorf("a change and a failure: exit %d, want 6", got)
	}
}

// TestApplyReplyToReport: the daemon's answer to apply, every field set,
// reads back into the engine's report that prints it without losing a
// byte of what came.
func TestApplyReplyToReport(t *testing.T) {
	const wire = `{"time":"2026-01-02T03:04:05Z","trigger":"apply","changes":[{"resource":"file:/etc/motd","from":"/usr/lib/tmpfiles.d/motd.conf:1","result":"changed","what":["content"],"deltas":[{"attr":"mode","old":"0600","new":"0644"}],"diff":"-a\\n+b\\n","duration":1,"error":"boom"}],"unchanged":1,"failed":1,"skipped":1,"drifted":1,"duration":1,"dry_run":true,"fights":[{"resource":"file:/etc/x","repairs":3,"backoff":1,"until":"2026-01-02T03:04:05Z"}],"config_error":"a.toml:1: bad"}`
	var r api.Report
	if err := json.Unmarshal([]byte(wire), &r); err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(cmReport(r))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != wire {
		t.Errorf("printed from\n%s\nwant\n%s", got, wire)
	}
}

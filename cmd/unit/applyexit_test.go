package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
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

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A plain `go build` in a git checkout reports the commit it was built
// from (this environment sets GOFLAGS=-buildvcs=false, so ask for it).
func TestVersionFromBuildInfo(t *testing.T) {
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	// Go stamps a build only where .git is a directory: not in a git
	// worktree (its .git is a file naming the real one).
	if fi, err := os.Lstat(filepath.Join(repoRoot(t), ".git")); err == nil && !fi.IsDir() {
		t.Skip("a git worktree: go build does not stamp VCS information here")
	}
	bin := filepath.Join(t.TempDir(), "unit")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatalf("unit version --json: %v", err)
	}
	var v buildVersion
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	want := strings.TrimSpace(string(head))
	if v.Commit != want || !strings.Contains(v.Version, want[:12]) || !strings.HasPrefix(v.Go, "go1.") {
		t.Fatalf("version %+v, want commit %s", v, want)
	}
	text, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(text), "unit ") || !strings.Contains(string(text), want[:12]) {
		t.Fatalf("unit version = %q, %v", text, err)
	}
}

// repoRoot is the top of the git checkout the test runs in.
func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	return strings.TrimSpace(string(out))
}

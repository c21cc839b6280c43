package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runUnit runs unit ARGS in dir with env added, and returns its combined
// output and whether it failed.
func runUnit(t *testing.T, dir string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(unitBin, args...)
	cmd.Dir, cmd.Env = dir, append(hostEnv(t), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestPkgUpdateFiles: a bare name means NAME.toml here when it exists,
// else packages/NAME.toml; paths and *.toml stay as given.
func TestPkgUpdateFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "redis.toml"), []byte("name = \"redis\"\nversion = \"1\"\nsteps = [[\"true\"]]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"UNIT_CACHE=" + filepath.Join(dir, "cache")}
	for name, want := range map[string]string{"redis": "redis.toml: no deb source", "nginx": filepath.Join("packages", "nginx.toml"), "x/y.toml": filepath.Join("x", "y.toml")} {
		out, err := runUnit(t, dir, env, "pkg", "update", name)
		if err == nil || !strings.Contains(out, want) {
			t.Errorf("unit pkg update %s: %v, output %q, want it to name %s", name, err, out, want)
		}
	}
}

// TestPkgUpdateNoDebSource: updating a recipe without a deb source (one
// with deps = false has a pin to update) is an error that names the
// recipe, and writes no lock. unit runs unit-build for it.
func TestPkgUpdateNoDebSource(t *testing.T) {
	dir := t.TempDir()
	recipe := filepath.Join(dir, "k.toml")
	text := "name = \"k\"\nversion = \"1\"\n[[source]]\nurl = \"https://example.org/k.tar.gz\"\nsha256 = \"" + strings.Repeat("0", 64) + "\"\n"
	if err := os.WriteFile(recipe, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runUnit(t, dir, []string{"UNIT_CACHE=" + filepath.Join(dir, "cache")}, "pkg", "update", "--store", filepath.Join(dir, "store"), recipe)
	if err == nil || !strings.Contains(out, recipe+": no deb source: nothing to update") {
		t.Fatalf("error %v, output %q", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "k.lock")); err == nil {
		t.Error("a lock was written")
	}
}

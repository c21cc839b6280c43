package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestPkgUpdateFiles: a bare name means NAME.toml here when it exists,
// else packages/NAME.toml; paths and *.toml stay as given.
func TestPkgUpdateFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "redis.toml"), []byte("name = \"redis\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	got := updateFiles([]string{"redis", "nginx", "x/y.toml", "z.toml"})
	want := []string{"redis.toml", "packages/nginx.toml", "x/y.toml", "z.toml"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("updateFiles = %v, want %v", got, want)
	}
}

// TestPkgUpdateNoDebSource: updating a recipe without a deb source (one
// with deps = false has a pin to update) is an error that names the
// recipe, and writes no lock.
func TestPkgUpdateNoDebSource(t *testing.T) {
	dir := t.TempDir()
	recipe := filepath.Join(dir, "k.toml")
	text := "name = \"k\"\nversion = \"1\"\n[[source]]\nurl = \"https://example.org/k.tar.gz\"\nsha256 = \"" + strings.Repeat("0", 64) + "\"\n"
	if err := os.WriteFile(recipe, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("UNIT_CACHE", filepath.Join(dir, "cache"))
	err := cmdPkg([]string{"update", "--store", filepath.Join(dir, "store"), recipe})
	if err == nil || !strings.Contains(err.Error(), recipe+": no deb source: nothing to update") {
		t.Fatalf("error %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "k.lock")); err == nil {
		t.Error("a lock was written")
	}
}

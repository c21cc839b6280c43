package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLeanUnit: unit, every image's /init, links none of the builders
// nor what only they need (HTTP and TLS for caches, the .deb readers'
// compressors, gob for the build memos, the shell parser); unit-build
// has them. A file that forgets its build tag fails here.
func TestLeanUnit(t *testing.T) {
	deps := func(tags ...string) string {
		out, err := exec.Command("go", append(append([]string{"list", "-deps"}, tags...), ".")...).Output()
		if err != nil {
			t.Fatalf("go list: %v", err)
		}
		return string(out)
	}
	lean := deps()
	for _, p := range []string{"github.com/unit-os/unit/image", "github.com/unit-os/unit/pkgbuild", "github.com/unit-os/unit/cas",
		"github.com/unit-os/unit/deb", "net/http", "crypto/tls", "encoding/gob", "github.com/klauspost/compress/zstd",
		"github.com/ulikunitz/xz", "mvdan.cc/sh/v3/syntax"} {
		if strings.Contains(lean, p+"\n") {
			t.Errorf("unit links %s", p)
		}
		if p == "github.com/unit-os/unit/image" && !strings.Contains(deps("-tags", "builders"), p+"\n") {
			t.Errorf("unit-build does not link %s", p)
		}
	}
}

// TestBuilderProgram: unit pkg and unit image run unit-build; without it
// they say what is missing and how to get it, and help needs none.
func TestBuilderProgram(t *testing.T) {
	dir := t.TempDir()
	alone := filepath.Join(dir, "unit")
	data, err := os.ReadFile(unitBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(alone, data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"pkg", "ls"}, {"image", "build", "x.toml", "-o", "out"}} {
		cmd := exec.Command(alone, args...)
		cmd.Env = append(hostEnv(t), "PATH=/usr/bin:/bin")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "needs the unit-build program (the package and image builders): unit-build is neither beside "+alone+" nor in PATH (make build puts it beside unit)") {
			t.Errorf("unit %v without unit-build: %v, %q", args, err, out)
		}
	}
	out, err := exec.Command(alone, "pkg", "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "unit pkg build") {
		t.Errorf("unit pkg --help without unit-build: %v, %q", err, out)
	}
	// With unit-build beside it, unit pkg is unit-build's.
	out, err = exec.Command(unitBin, "pkg", "ls", "--json", "--store", filepath.Join(dir, "store")).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "[]" {
		t.Errorf("unit pkg ls: %v, %q", err, out)
	}
}

// TestImageInitVersion: unit-build puts the unit that ran it in the image
// as /init, and refuses one of another version (a stale bin/unit).
func TestImageInitVersion(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "unit")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=other-1", "-o", other, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	sys := filepath.Join(dir, "system.toml")
	if err := os.WriteFile(sys, []byte("[system]\nhostname = \"x\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(filepath.Dir(unitBin), builderName), "image", "build", sys, "-o", filepath.Join(dir, "out"))
	cmd.Env = append(hostEnv(t), initEnv+"="+other)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "the image's /init "+other+" is unit other-1") || !strings.Contains(string(out), "build both from one tree (make build)") {
		t.Errorf("a unit of another version as /init: %v, %q", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("an output was written")
	}
}

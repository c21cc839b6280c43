package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// unit apply --once says each failure once, in its report; the engine's
// log of the same failure is left out.
func TestApplyOnceSaysFailureOnce(t *testing.T) {
	cfgDir, data := t.TempDir(), t.TempDir()
	blocker := filepath.Join(data, "blocker") // a file where a directory should be
	os.WriteFile(blocker, []byte("x"), 0o644)
	target := filepath.Join(blocker, "b")
	os.WriteFile(filepath.Join(cfgDir, "a.toml"), []byte("[file.\""+target+"\"]\ncontent = \"b\\n\"\n"), 0o644)
	out, err := exec.Command(unitBin, "apply", "--once", "--config", cfgDir).CombinedOutput()
	if exitStatus(err) != 1 {
		t.Fatalf("unit apply --once: %v, want exit 1\n%s", err, out)
	}
	if n := strings.Count(string(out), target); n != 1 || !strings.Contains(string(out), "file:"+target+": failed: ") || strings.Contains(string(out), "level=") {
		t.Errorf("the failure is said %d times, want once, in the report:\n%s", n, out)
	}
}

// unit run without its config says so on one line, prefixed unit:.
func TestRunNoConfigOneLine(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none")
	cmd := exec.Command(unitBin, "run", "--config", missing, "--state", t.TempDir())
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	want := "unit: config " + missing + ": load: stat " + missing + ": no such file or directory\n"
	if exitStatus(err) != 1 || stderr.String() != want || stdout.Len() != 0 {
		t.Errorf("unit run, no config: %v\nstderr: %q\nwant:   %q", err, stderr.String(), want)
	}
}

// An error of several lines is printed a fact a line, each prefixed unit:
// and carrying its heading.
func TestPrintError(t *testing.T) {
	for in, want := range map[string]string{
		"boom": "unit: boom\n",
		"config /etc/unit:\n/etc/unit/a.toml:3: bad\n/etc/unit/b.toml:1: worse\n": "unit: config /etc/unit: /etc/unit/a.toml:3: bad\nunit: config /etc/unit: /etc/unit/b.toml:1: worse\n",
		"a:\nb:\n  x\nc:\ny": "unit: a: b: x\nunit: c: y\n",
		"dangling:":          "unit: dangling:\n",
	} {
		var b strings.Builder
		printError(&b, errors.New(in))
		if b.String() != want {
			t.Errorf("printError(%q) = %q, want %q", in, b.String(), want)
		}
	}
}

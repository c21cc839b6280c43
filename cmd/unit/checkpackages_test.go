package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unit-os/unit/pkgbuild"
)

// TestCheckImagePrograms: on a system with [system] packages, unit check
// looks for a service's program in the packages' kegs (the store), not
// only on this machine: a program a keg has is no warning, one in no keg
// and not here is, and says so; with the kegs not built it says that.
func TestCheckImagePrograms(t *testing.T) {
	cache := t.TempDir()
	keg := filepath.Join(cache, "store", "mydaemon", "1-abc")
	os.MkdirAll(filepath.Join(keg, "usr", "sbin"), 0o755)
	os.WriteFile(filepath.Join(keg, "usr", "sbin", "mydaemon-not-on-hosts"), []byte("#!/bin/sh\n"), 0o755)
	meta, _ := json.Marshal(pkgbuild.Keg{Name: "mydaemon", Version: "1", Hash: "abc"})
	os.WriteFile(filepath.Join(keg, pkgbuild.MetaName), meta, 0o644)
	os.Symlink("1-abc", filepath.Join(cache, "store", "mydaemon", "current"))

	f := filepath.Join(t.TempDir(), "system.toml")
	os.WriteFile(f, []byte(`[system]
packages = ["mydaemon"]

[service.bare]
exec = ["mydaemon-not-on-hosts"]

[service.abs]
exec = ["/usr/sbin/mydaemon-not-on-hosts", "-d"]

[service.typo]
exec = ["/usr/sbin/mydaemon-not-on-host"]
`), 0o644)
	check := func(cache string) string {
		cmd := exec.Command(unitBin, "check", f)
		cmd.Env = append(os.Environ(), "UNIT_CACHE="+cache)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("unit check: %v\n%s", err, out)
		}
		return string(out)
	}
	out := check(cache)
	for _, s := range []string{"service.bare", "service.abs"} {
		if strings.Contains(out, s) {
			t.Errorf("%s runs a program of the system's packages, yet:\n%s", s, out)
		}
	}
	if want := f + ":11: service.typo.exec: /usr/sbin/mydaemon-not-on-host is in none of the system's packages ([system] packages)"; !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}

	out = check(t.TempDir()) // an empty store
	if want := `service.abs.exec: /usr/sbin/mydaemon-not-on-hosts is not on this machine, and the system's packages cannot be looked in: package "mydaemon": not in the store`; !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
}

package image

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/pkgbuild"
)

// debFakeKeg is fakeKeg for a Debian package: its metadata says so, so
// the image takes its runtime closure, not every file.
func debFakeKeg(t *testing.T, store, name string, deps, files map[string]string) string {
	t.Helper()
	rel := fakeKeg(t, store, name, deps, files)
	meta, _ := json.Marshal(pkgbuild.Keg{Name: name, Version: "1", Hash: name + "hash", Deps: deps,
		Deb: &pkgbuild.DebInfo{Package: name, Version: "1", Arch: "amd64"}})
	if err := os.WriteFile(filepath.Join(store, rel, pkgbuild.MetaName), meta, 0o644); err != nil {
		t.Fatal(err)
	}
	return rel
}

const appUnit = `[Unit]
Description=App
After=network.target

[Service]
Type=notify
Environment=OPTS=-v
ExecStartPre=-/usr/sbin/app-setup --check
ExecStart=/usr/bin/app --serve $OPTS
SystemCallFilter=@system-service
MemoryDenyWriteExecute=yes
`

// declaredStore is a store with app (named; ships app.service, its
// program and an alias link) and app-tools (a dependency nothing but the
// unit file's ExecStartPre runs).
func declaredStore(t *testing.T) string {
	store := filepath.Join(t.TempDir(), "store")
	tools := debFakeKeg(t, store, "app-tools", nil, map[string]string{"usr/sbin/app-setup": "#!/bin/sh\nexit 0\n"})
	debFakeKeg(t, store, "app", map[string]string{"app-tools": tools}, map[string]string{
		"usr/bin/app":                        "#!/bin/sh\nexec sleep 1000\n",
		"lib/systemd/system/app.service":     appUnit,
		"lib/systemd/system/app-web.service": "->app.service",
		"lib/systemd/system/other.service":   "[Service]\nExecStart=/bin/other\n",
		"usr/share/doc/app/copyright":        "doc",
	})
	return store
}

// TestLoadSystemDeclared: `unit check`'s load of a system whose service
// has no exec takes the keys from the unit file its package ships (an
// alias too), the notes at the unit file's lines; without the unit file
// the error says no package ships it.
func TestLoadSystemDeclared(t *testing.T) {
	store := declaredStore(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "system.toml")
	os.WriteFile(p, []byte("[system]\npackages = [\"app\"]\n\n[service.app]\n\n[service.app-web]\nuser = \"www\"\n"), 0o644)
	cfg, err := LoadSystem(config.Loader{}, store, func(l config.Loader) (*config.Config, error) { return l.LoadFiles(p) })
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Services["app"]
	if strings.Join(a.Exec, " ") != "/usr/bin/app --serve $OPTS" || !a.Expand || a.Ready != "notify" || a.Env["OPTS"] != "-v" {
		t.Errorf("app = %+v", a)
	}
	if len(a.ExecPre) != 1 || a.ExecPre[0][0] != "-/usr/sbin/app-setup" {
		t.Errorf("app exec_pre = %q", a.ExecPre)
	}
	if w := cfg.Services["app-web"]; w.User != "www" || w.Exec[0] != "/usr/bin/app" {
		t.Errorf("app-web = %+v", w)
	}
	var notes []string
	for _, n := range cfg.Notes {
		notes = append(notes, n.String())
	}
	if want := "/lib/systemd/system/app.service:10: SystemCallFilter= not honoured: unit has no such setting"; !strings.Contains(strings.Join(notes, "\n"), want) {
		t.Errorf("notes:\n%s\nwant %s", strings.Join(notes, "\n"), want)
	}

	os.WriteFile(p, []byte("[system]\npackages = [\"app\"]\n\n[service.nope]\n"), 0o644)
	_, err = LoadSystem(config.Loader{}, store, func(l config.Loader) (*config.Config, error) { return l.LoadFiles(p) })
	if want := `service "nope": exec is required: a command as a list, e.g. exec = ["/bin/httpd", "-f"], and no package in the image ships nope.service`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %s", err, want)
	}
}

// TestBuildDeclaredService: an image of a system whose [service.app] has
// no exec builds from app.service: the notes are printed one a line, the
// unit file (and no other) is in the image for PID 1 to read at boot, and
// the program ExecStartPre runs, in a package nothing else needs, is in.
func TestBuildDeclaredService(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads a kernel with apt")
	}
	for _, tool := range []string{"apt-get", "zstd", "cpio"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	tmp := t.TempDir()
	store := declaredStore(t)
	system := filepath.Join(tmp, "system.toml")
	os.WriteFile(system, []byte("[system]\npackages = [\"app\"]\n\n[service.app]\n"), 0o644)
	var notes bytes.Buffer
	res, err := Build(context.Background(), Options{System: system, Out: filepath.Join(tmp, "out"), Init: system, CacheDir: testCache(), Store: store, Recipes: tmp, Notes: &notes})
	if err != nil {
		t.Fatal(err)
	}
	want := "/lib/systemd/system/app.service:10: SystemCallFilter= not honoured: unit has no such setting\n" +
		"/lib/systemd/system/app.service:11: MemoryDenyWriteExecute= not honoured: unit has no such setting\n"
	if notes.String() != want {
		t.Errorf("notes:\n%s\nwant\n%s", notes.String(), want)
	}
	listing := listInitramfs(t, res.Initramfs)
	for _, p := range []string{"lib/systemd/system/app.service", "usr/bin/app", "usr/sbin/app-setup"} {
		if !listing[p] {
			t.Errorf("image lacks %s", p)
		}
	}
	for _, p := range []string{"lib/systemd/system/other.service", "lib/systemd/system/app-web.service", "usr/share/doc/app/copyright"} {
		if listing[p] {
			t.Errorf("image has %s", p)
		}
	}
}

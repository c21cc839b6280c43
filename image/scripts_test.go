package image

import (
	"bytes"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
)

// applet is a busybox applet link of the image's base.
func applet(name string) entry {
	return entry{Name: name, Mode: fs.ModeSymlink | 0o777, Data: []byte("/bin/busybox")}
}

// TestScriptCommandsTakeRealTools: a service's exec_pre is a shell
// script calling setpriv and cp with options busybox lacks; util-linux's
// and coreutils' programs (kegs no one depends on, as Essential ones)
// replace busybox's applets, with their ld.so closure; a command found
// nowhere is noted at the script's line, a probed one (command -v) is not.
func TestScriptCommandsTakeRealTools(t *testing.T) {
	f := newFixture(t,
		kegSpec{pkg: "util-linux", source: "util-linux", progs: map[string]string{"/usr/bin/setpriv": hostProg},
			files: map[string]string{"/usr/share/util-linux/unused": "x"}},
		kegSpec{pkg: "coreutils", source: "coreutils", progs: map[string]string{"/bin/cp": hostProg}},
		kegSpec{pkg: "helper", source: "helper", files: map[string]string{"/usr/libexec/helper/prestart": `#!/bin/sh
set -e
setpriv --reuid nobody true
cp --remove-destination --preserve /a /b
if command -v resolvconf >/dev/null; then :; fi
nosuchtool --flag
`}})
	cfg, _ := loadSystem(t, `
[system]
packages = ["hello"]

[service.hello]
exec = ["hello"]
exec_pre = [["-/usr/libexec/helper/prestart"]]
exec_post = [["/bin/sh", "-c", "grep -q x /etc/hello.conf"]]
`)
	bb, err := os.ReadFile(hostProg) // a real ELF, its closure in libc6
	if err != nil {
		t.Fatal(err)
	}
	base := []entry{{Name: "bin/busybox", Mode: 0o755, Data: bb},
		applet("bin/sh"), applet("bin/cp"), applet("usr/bin/setpriv"), applet("usr/sbin/cp")}
	var logs bytes.Buffer
	sel, err := selectDebs(cfg, slog.New(slog.NewTextHandler(&logs, nil)), f.debs, f.named, base)
	if err != nil {
		t.Fatal(err)
	}
	got := entryNames(sel)
	for _, p := range append([]string{"/usr/bin/setpriv", "/bin/cp", "/usr/libexec/helper/prestart"}, f.libc...) {
		if _, ok := got[p]; !ok {
			t.Errorf("%s is not in the image", p)
		}
	}
	if _, ok := got["/usr/share/util-linux/unused"]; ok {
		t.Error("util-linux is taken whole, want only what the script runs")
	}
	// usr/sbin/cp comes before /bin/cp on PATH: it goes too.
	if want := []string{"/bin/cp", "/usr/bin/setpriv", "/usr/sbin/cp"}; !slices.Equal(sel.Replaced, want) {
		t.Errorf("Replaced = %v, want %v", sel.Replaced, want)
	}
	want := []string{
		"/usr/libexec/helper/prestart:6: nosuchtool: command not in the image",
		"service.hello.exec_post (sh -c):1: grep: command not in the image",
	}
	if !slices.Equal(sel.Notes, want) {
		t.Errorf("Notes = %q, want %q", sel.Notes, want)
	}
	if !strings.Contains(logs.String(), "nosuchtool: command not in the image") {
		t.Errorf("build log lacks the note: %s", logs.String())
	}
	kept := dropApplets(base, sel.Replaced)
	if len(kept) != 2 || kept[0].Name != "bin/busybox" || kept[1].Name != "bin/sh" {
		var names []string
		for _, e := range kept {
			names = append(names, e.Name)
		}
		t.Errorf("base after the replaced applets went: %v", names)
	}
}

// TestRecommendedPackageWhole: a package the named one's recipe took the
// Recommends of comes whole, as apt installs it (a trust anchor no
// program loads).
func TestRecommendedPackageWhole(t *testing.T) {
	f := newFixture(t, kegSpec{pkg: "dns-root-data", source: "dns-root-data",
		files: map[string]string{"/usr/share/dns/root.key": ". IN DS 20326 8 2 E06D"}})
	f.debs[0].Deb.Recommends = []string{"dns-root-data"} // hello, named
	cfg, _ := loadSystem(t, "[system]\npackages = [\"hello\"]\n")
	sel, err := f.sel(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := entryNames(sel)["/usr/share/dns/root.key"]; !ok {
		t.Error("the recommended package's file is not in the image")
	}
	for _, u := range sel.Used {
		if u.Package == "dns-root-data" && u.Why != "recommended" {
			t.Errorf("dns-root-data why %q, want recommended", u.Why)
		}
	}
}

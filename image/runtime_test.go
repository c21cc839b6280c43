package image

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/ldso"
	"github.com/unit-os/unit/pkgbuild"
)

// debKeg is a Debian package's keg made for a test: files are guest path
// → host file to copy ("=TEXT" for literal content), links guest path →
// target.
type debKeg struct {
	pkg, source string
	files       map[string]string
	links       map[string]string
	conffiles   []string
}

func makeDebKeg(t *testing.T, store string, k debKeg) *pkgbuild.Keg {
	t.Helper()
	dir := filepath.Join(store, k.pkg, "1.0-0")
	for guest, src := range k.files {
		var data []byte
		if text, ok := strings.CutPrefix(src, "="); ok {
			data = []byte(text)
		} else {
			b, err := os.ReadFile(src)
			if err != nil {
				t.Skipf("host file %s: %v", src, err)
			}
			data = b
		}
		p := filepath.Join(dir, guest)
		os.MkdirAll(filepath.Dir(p), 0o755)
		mode := os.FileMode(0o644)
		if strings.Contains(guest, "/bin/") || strings.Contains(guest, ".so") {
			mode = 0o755
		}
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
	}
	for guest, target := range k.links {
		p := filepath.Join(dir, guest)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	src := k.source
	if src == "" {
		src = k.pkg
	}
	return &pkgbuild.Keg{Name: k.pkg, Version: "1.0-0", Hash: "0", Dir: dir,
		Deb: &pkgbuild.DebInfo{Package: k.pkg, Version: "1.0-0", Arch: "amd64", Source: src, Conffiles: k.conffiles}}
}

// hostLib is the host's copy of a library (Debian: merged /usr).
func hostLib(name string) string { return "/usr/lib/x86_64-linux-gnu/" + name }

// webKegs is a small closure: a named program with its data, docs, man
// page, locale, init script and a conffile; a same-source sibling; glibc
// (what the program loads, and more); liblzma and xz (only what a service
// runs); debconf (nothing needs it).
func webKegs(t *testing.T) (kegs []*pkgbuild.Keg, named map[string]bool) {
	store := t.TempDir()
	app := makeDebKeg(t, store, debKeg{pkg: "app", source: "appsrc", conffiles: []string{"/etc/app/app.conf"}, files: map[string]string{
		"usr/bin/app":                            "/usr/bin/env",
		"usr/share/app/data.txt":                 "=data",
		"usr/share/doc/app/copyright":            "=doc",
		"usr/share/man/man1/app.1.gz":            "=man",
		"usr/share/locale/de/LC_MESSAGES/app.mo": "=de",
		"etc/init.d/app":                         "=#!/bin/sh\n",
		"etc/app/app.conf":                       "=default\n",
	}})
	kegs = []*pkgbuild.Keg{
		app,
		makeDebKeg(t, store, debKeg{pkg: "app-common", source: "appsrc", files: map[string]string{"usr/share/app-common/x.txt": "=x"}}),
		makeDebKeg(t, store, debKeg{pkg: "libc6", source: "glibc", files: map[string]string{
			"lib/x86_64-linux-gnu/libc.so.6":   hostLib("libc.so.6"),
			"lib64/ld-linux-x86-64.so.2":       hostLib("ld-linux-x86-64.so.2"),
			"lib/x86_64-linux-gnu/libextra.so": "=not an ELF",
			"usr/share/doc/libc6/copyright":    "=doc",
		}}),
		makeDebKeg(t, store, debKeg{pkg: "liblzma5", source: "xz-utils", files: map[string]string{
			"usr/lib/x86_64-linux-gnu/liblzma.so.5.4.1": hostLib("liblzma.so.5.4.1"),
		}, links: map[string]string{"usr/lib/x86_64-linux-gnu/liblzma.so.5": "liblzma.so.5.4.1"}}),
		makeDebKeg(t, store, debKeg{pkg: "xz-utils", files: map[string]string{"usr/bin/xz": "/usr/bin/xz"}}),
		makeDebKeg(t, store, debKeg{pkg: "debconf", files: map[string]string{"usr/share/debconf/confmodule": "=#!/bin/sh\n"}}),
	}
	return kegs, map[string]bool{app.Dir: true}
}

func loadSystem(t *testing.T, text string) (*config.Config, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "system.toml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadFiles(p)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, p
}

func names(es []entry) map[string]bool {
	m := map[string]bool{}
	for _, e := range es {
		m[e.Name] = true
	}
	return m
}

// The selection: named package and same-source sibling whole less docs,
// man pages, locales and init scripts; of other packages only what runs
// needs; include brings a locale back; a [file] on a conffile wins and is
// listed; a package nothing needs is dropped.
func TestRuntimeSelection(t *testing.T) {
	kegs, named := webKegs(t)
	cfg, _ := loadSystem(t, `
[system]
include = ["/usr/share/locale/de"]

[service.a]
exec = ["app", "--version"]

[service.b]
exec = ["!/usr/bin/xz", "-d"] # the prefix is no part of the program's path

[file."/etc/app/app.conf"]
content = "mine\n"
`)
	sel, err := selectDebs(cfg, slog.New(slog.DiscardHandler), kegs, named, baseEntries(nil))
	if err != nil {
		t.Fatal(err)
	}
	got := names(sel.Entries)
	for _, want := range []string{
		"usr/bin/app", "usr/share/app/data.txt", "usr/share/app-common/x.txt",
		"lib/x86_64-linux-gnu/libc.so.6", "lib64/ld-linux-x86-64.so.2",
		"usr/bin/xz", "usr/lib/x86_64-linux-gnu/liblzma.so.5", "usr/lib/x86_64-linux-gnu/liblzma.so.5.4.1",
		"usr/share/locale/de/LC_MESSAGES/app.mo",
	} {
		if !got[want] {
			t.Errorf("%s left out", want)
		}
	}
	for _, not := range []string{
		"usr/share/doc/app/copyright", "usr/share/man/man1/app.1.gz", "etc/init.d/app",
		"lib/x86_64-linux-gnu/libextra.so", "usr/share/doc/libc6/copyright", "usr/share/debconf/confmodule",
		"etc/app/app.conf",
	} {
		if got[not] {
			t.Errorf("%s taken", not)
		}
	}
	if len(sel.Overrides) != 1 || sel.Overrides[0] != (Override{Path: "/etc/app/app.conf", Package: "app", Conffile: true, By: "file:/etc/app/app.conf"}) {
		t.Errorf("overrides = %+v", sel.Overrides)
	}
	if strings.Join(sel.Dropped, " ") != "debconf" {
		t.Errorf("dropped = %v, want debconf", sel.Dropped)
	}
	why := map[string]string{}
	for _, d := range sel.Used {
		why[d.Package] = d.Why
		if d.Version != "1.0-0" || d.Arch != "amd64" || d.Keg == "" {
			t.Errorf("pin %+v incomplete", d)
		}
	}
	for pkg, w := range map[string]string{"app": "named", "app-common": "source", "libc6": "needed", "liblzma5": "needed", "xz-utils": "needed"} {
		if why[pkg] != w {
			t.Errorf("%s: why %q, want %q", pkg, why[pkg], w)
		}
	}
}

// Build-time errors name the line of exec in the system file, the program, what it
// needs and where it could come from; a program a [file] writes is fine.
func TestRuntimeMissingIsABuildError(t *testing.T) {
	kegs, named := webKegs(t)
	cfg, sys := loadSystem(t, `[system]
exclude = ["/usr/lib/x86_64-linux-gnu/liblzma*"]

[service.b]
exec = ["/usr/bin/xz"]

[service.c]
exec = ["nosuch"]

[service.d]
exec = ["/usr/local/bin/script"]

[file."/usr/local/bin/script"]
content = "#!/bin/sh\n"
mode = "0755"

[check.db]
exec = ["nosuchclient", "-c", "select 1"]
`)
	_, err := selectDebs(cfg, slog.New(slog.DiscardHandler), kegs, named, baseEntries(nil))
	var errs config.Errors
	if !errors.As(err, &errs) || len(errs) != 3 {
		t.Fatalf("want three errors, got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{
		sys + `:5: service.b.exec: /usr/bin/xz needs liblzma.so.5, which no package of this image provides (Debian: liblzma5 has /usr/lib/x86_64-linux-gnu/liblzma.so.5`,
		`left out by [system] exclude "/usr/lib/x86_64-linux-gnu/liblzma*")`,
		sys + `:8: service.c.exec: nosuch is in no package of this image`,
		sys + `:17: check.db.exec: nosuchclient is in no package of this image`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "service.d") {
		t.Errorf("a program the system writes is reported:\n%s", msg)
	}
}

// Two packages may not install one path.
func TestRuntimeSamePathConflict(t *testing.T) {
	store := t.TempDir()
	a := makeDebKeg(t, store, debKeg{pkg: "a", files: map[string]string{"usr/bin/tool": "=1"}})
	b := makeDebKeg(t, store, debKeg{pkg: "b", files: map[string]string{"usr/bin/tool": "=2"}})
	cfg, _ := loadSystem(t, "")
	_, err := selectDebs(cfg, slog.New(slog.DiscardHandler), []*pkgbuild.Keg{a, b}, map[string]bool{a.Dir: true}, nil)
	if err == nil || !strings.Contains(err.Error(), "packages a and b both install /usr/bin/tool") {
		t.Errorf("got %v", err)
	}
}

// The image's ld.so.cache lists its libraries, for glibc's loader.
func TestRuntimeLdCache(t *testing.T) {
	kegs, named := webKegs(t)
	cfg, _ := loadSystem(t, "[service.b]\nexec = [\"xz\"]\n")
	sel, err := selectDebs(cfg, slog.New(slog.DiscardHandler), kegs, named, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ldCache(sel.Entries)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := ldso.ParseCache(c.Data)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Soname+"="+e.Path)
	}
	sort.Strings(got)
	want := "libc.so.6=/lib/x86_64-linux-gnu/libc.so.6 liblzma.so.5=/usr/lib/x86_64-linux-gnu/liblzma.so.5"
	if strings.Join(got, " ") != want {
		t.Errorf("cache = %v, want %s", got, want)
	}
	if c.Name != "etc/ld.so.cache" {
		t.Errorf("cache at %s", c.Name)
	}
}

// Hostile kegs: a symlink that leads out of the tree is copied as a
// symlink (never the host file it would reach), and its target is not a
// program the image has; a fifo is refused.
func TestRuntimeHostileKegs(t *testing.T) {
	store := t.TempDir()
	k := makeDebKeg(t, store, debKeg{pkg: "evil", links: map[string]string{
		"usr/bin/up":  "../../../../../../etc/shadow",
		"usr/bin/abs": "/etc/shadow",
	}})
	cfg, sys := loadSystem(t, "[service.x]\nexec = [\"/usr/bin/abs\"]\n")
	_, err := selectDebs(cfg, slog.New(slog.DiscardHandler), []*pkgbuild.Keg{k}, map[string]bool{k.Dir: true}, nil)
	if err == nil || !strings.Contains(err.Error(), sys+":2: service.x.exec: /usr/bin/abs is in no package of this image") {
		t.Errorf("a link out of the tree resolved: %v", err)
	}
	cfg, _ = loadSystem(t, "")
	sel, err := selectDebs(cfg, slog.New(slog.DiscardHandler), []*pkgbuild.Keg{k}, map[string]bool{k.Dir: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range sel.Entries {
		if e.Mode&os.ModeSymlink == 0 || !strings.HasSuffix(string(e.Data), "etc/shadow") {
			t.Errorf("%s: mode %v data %q; want the symlink itself", e.Name, e.Mode, e.Data)
		}
	}
	fifo := filepath.Join(k.Dir, "usr/bin/pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := selectDebs(cfg, slog.New(slog.DiscardHandler), []*pkgbuild.Keg{k}, map[string]bool{k.Dir: true}, nil); err == nil || !strings.Contains(err.Error(), "usr/bin/pipe: unsupported file type") {
		t.Errorf("fifo: %v", err)
	}
}

// A named package's empty directories are in the image with the
// package's mode (haproxy chroots into its empty /var/lib/haproxy), but
// not under docs, not where the image has a file, and not a library's.
func TestRuntimeEmptyDirs(t *testing.T) {
	store := t.TempDir()
	foo := makeDebKeg(t, store, debKeg{pkg: "foo", files: map[string]string{"usr/share/foo/data": "=x"}})
	lib := makeDebKeg(t, store, debKeg{pkg: "libfoo", files: map[string]string{"usr/share/libfoo/data": "=x"}})
	for _, d := range []struct {
		keg  *pkgbuild.Keg
		path string
		mode os.FileMode
	}{
		{foo, "var/lib/foo", 0o750},
		{foo, "var/lib/foo/sub", 0o700},
		{foo, "usr/share/doc/foo", 0o755},
		{foo, "var/log/foo", 0o755},
		{foo, "var/run/foo", 0o755},
		{lib, "var/lib/libfoo", 0o755},
	} {
		p := filepath.Join(d.keg.Dir, d.path)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, d.mode); err != nil {
			t.Fatal(err)
		}
	}
	cfg, _ := loadSystem(t, "[system]\nexclude = [\"/var/log/foo\"]\n")
	// Under a link of the image (/var/run), a package's directory is left
	// out rather than failing the build.
	base := []entry{{Name: "var/run", Mode: os.ModeSymlink | 0o777, Data: []byte("/run")}}
	sel, err := selectDebs(cfg, slog.New(slog.DiscardHandler), []*pkgbuild.Keg{foo, lib}, map[string]bool{foo.Dir: true}, base)
	if err != nil {
		t.Fatal(err)
	}
	modes := map[string]os.FileMode{}
	for _, e := range sel.Entries {
		modes[e.Name] = e.Mode
	}
	for name, want := range map[string]os.FileMode{
		"var/lib/foo":     os.ModeDir | 0o750,
		"var/lib/foo/sub": os.ModeDir | 0o700,
	} {
		if got, ok := modes[name]; !ok || got != want {
			t.Errorf("%s: mode %v (in image: %v), want %v", name, got, ok, want)
		}
	}
	for _, not := range []string{"usr/share/doc/foo", "usr/share/doc", "var/log/foo", "var/lib/libfoo", "var/run/foo", "usr/share/foo", "usr/share"} {
		if _, ok := modes[not]; ok {
			t.Errorf("%s in the image", not)
		}
	}
	if _, err := newTree(append(base, sel.Entries...)); err != nil {
		t.Errorf("tree: %v", err)
	}
	for _, d := range sel.Used {
		if d.Package == "foo" && d.Files != 1 {
			t.Errorf("foo: %d files, want 1 (directories are not files)", d.Files)
		}
	}
}

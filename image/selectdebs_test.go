package image

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/ldso"
	"github.com/unit-os/unit/pkgbuild"
)

// The tests here build synthetic Debian kegs in a temporary store: the
// program of the named package is a copy of the host's /usr/bin/env and
// the "libc6" keg holds the host's ld.so closure of it, so the ld.so
// closure selectDebs computes is a real one.

// hostProg is the dynamically linked host program the tests use.
const hostProg = "/usr/bin/env"

// hostClosure is the host's ld.so closure of hostProg, less the program.
func hostClosure(t *testing.T) []string {
	t.Helper()
	v, err := ldso.OpenDir("/")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	res, err := ldso.Closure(v, []string{hostProg}, ldso.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil {
		t.Skipf("host %s is not complete: %v", hostProg, err)
	}
	var out []string
	for _, f := range res.Files {
		if f != hostProg {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		t.Skipf("host %s is not dynamically linked", hostProg)
	}
	return out
}

// kegSpec describes one synthetic Debian keg.
type kegSpec struct {
	pkg, source string
	conffiles   []string
	files       map[string]string // guest path → content (mode 0644)
	progs       map[string]string // guest path → host file copied (mode 0755)
	links       map[string]string // guest path → symlink target
	hostPaths   []string          // host paths copied as they are (symlinks kept)
	recommends  []string          // the recipe asked for these of its Recommends
}

// makeKeg writes the keg into store and returns its metadata, as
// pkgbuild.ReadKeg would.
func makeKeg(t *testing.T, store string, s kegSpec) *pkgbuild.Keg {
	t.Helper()
	k := &pkgbuild.Keg{Name: s.pkg, Version: "1.0-1", Hash: "h" + s.pkg, Builder: "deb",
		Deb: &pkgbuild.DebInfo{Package: s.pkg, Version: "1.0-1", Arch: "amd64", SHA256: "00", Source: s.source, Conffiles: s.conffiles, Recommends: s.recommends}}
	k.Dir = filepath.Join(store, k.RelDir())
	put := func(p string) string {
		to := filepath.Join(k.Dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		return to
	}
	for p, c := range s.files {
		if err := os.WriteFile(put(p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for p, host := range s.progs {
		copyHostFile(t, host, put(p), 0o755)
	}
	for p, target := range s.links {
		if err := os.Symlink(target, put(p)); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range s.hostPaths {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, put(p)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		copyHostFile(t, p, put(p), fi.Mode().Perm())
	}
	meta, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(k.Dir, pkgbuild.MetaName), meta, 0o644); err != nil {
		t.Fatal(err)
	}
	return k
}

func copyHostFile(t *testing.T, from, to string, mode fs.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// fixture is the store most tests use: hello (named) with its sibling
// hello-common, libc6 (another source, the closure of hello's program)
// and debconf, which nothing runs needs.
type fixture struct {
	debs  []*pkgbuild.Keg
	named map[string]bool
	libc  []string // the guest paths of the host closure
}

func newFixture(t *testing.T, extra ...kegSpec) *fixture {
	t.Helper()
	store := t.TempDir()
	libc := hostClosure(t)
	hello := makeKeg(t, store, kegSpec{pkg: "hello", source: "hello",
		conffiles: []string{"/etc/hello.conf"},
		progs:     map[string]string{"/usr/bin/hello": hostProg},
		files: map[string]string{
			"/usr/share/hello/data.txt":                 "data",
			"/etc/hello.conf":                           "default=1\n",
			"/usr/share/doc/hello/copyright":            "GPL",
			"/usr/share/man/man1/hello.1.gz":            "man",
			"/usr/share/locale/de/LC_MESSAGES/hello.mo": "de",
			"/usr/share/locale/fr/LC_MESSAGES/hello.mo": "fr",
			"/etc/init.d/hello":                         "#!/bin/sh\n",
		}})
	common := makeKeg(t, store, kegSpec{pkg: "hello-common", source: "hello",
		files: map[string]string{"/usr/share/hello-common/theme.css": "css"}})
	libc6 := makeKeg(t, store, kegSpec{pkg: "libc6", source: "glibc", hostPaths: libc,
		files: map[string]string{"/usr/share/glibc/extra.txt": "not needed"}})
	debconf := makeKeg(t, store, kegSpec{pkg: "debconf", source: "debconf",
		files: map[string]string{"/usr/share/perl5/Debconf/Db.pm": "1;"}})
	f := &fixture{debs: []*pkgbuild.Keg{hello, common, libc6, debconf},
		named: map[string]bool{hello.Dir: true}, libc: libc}
	for _, s := range extra {
		k := makeKeg(t, store, s)
		f.debs = append(f.debs, k)
	}
	return f
}

func (f *fixture) sel(t *testing.T, cfg *config.Config) (*debSelection, error) {
	t.Helper()
	return selectDebs(cfg, slog.New(slog.DiscardHandler), f.debs, f.named, nil)
}

func entryNames(sel *debSelection) map[string]entry {
	out := map[string]entry{}
	for _, e := range sel.Entries {
		out["/"+strings.TrimPrefix(e.Name, "/")] = e
	}
	return out
}

func TestSelectDebsNamedAndClosure(t *testing.T) {
	f := newFixture(t)
	cfg, _ := loadSystem(t, `
[system]
packages = ["hello"]
include = ["/usr/share/locale/de"]
`)
	sel, err := f.sel(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := entryNames(sel)
	want := []string{"/usr/bin/hello", "/usr/share/hello/data.txt", "/etc/hello.conf",
		"/usr/share/locale/de/LC_MESSAGES/hello.mo", // brought back by include
		"/usr/share/hello-common/theme.css"}         // same-source sibling, whole
	want = append(want, f.libc...) // the closure of /usr/bin/hello
	for _, p := range want {
		if _, ok := got[p]; !ok {
			t.Errorf("%s is not in the image", p)
		}
	}
	for _, p := range []string{"/usr/share/doc/hello/copyright", "/usr/share/man/man1/hello.1.gz",
		"/usr/share/locale/fr/LC_MESSAGES/hello.mo", "/etc/init.d/hello",
		"/usr/share/glibc/extra.txt",     // libc6 only gives what runs needs
		"/usr/share/perl5/Debconf/Db.pm", // nothing needs debconf
	} {
		if _, ok := got[p]; ok {
			t.Errorf("%s is in the image", p)
		}
	}
	if len(got) != len(want) {
		t.Errorf("image has %d entries, want %d: %v", len(got), len(want), slices.Sorted(mapKeys(got)))
	}
	if e := got["/usr/bin/hello"]; e.Mode.Perm() != 0o755 {
		t.Errorf("/usr/bin/hello mode %v, want 0755", e.Mode)
	}
	if !slices.Equal(sel.Dropped, []string{"debconf"}) {
		t.Errorf("Dropped = %v, want [debconf]", sel.Dropped)
	}
	why := map[string]string{}
	for _, u := range sel.Used {
		why[u.Package] = u.Why
		if u.Version != "1.0-1" || u.Files == 0 || u.Keg == "" {
			t.Errorf("pin %+v: want version, keg and a file count", u)
		}
	}
	wantWhy := map[string]string{"hello": "named", "hello-common": "source", "libc6": "needed"}
	if len(why) != len(wantWhy) {
		t.Errorf("Used = %v, want %v", why, wantWhy)
	}
	for p, w := range wantWhy {
		if why[p] != w {
			t.Errorf("Used %s: why %q, want %q", p, why[p], w)
		}
	}
	if len(sel.Overrides) != 0 {
		t.Errorf("Overrides = %v, want none", sel.Overrides)
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// A service's program from a package nobody names is taken with its
// closure; an exclude glob wins over include and over the package.
func TestSelectDebsServiceOnPATH(t *testing.T) {
	f := newFixture(t, kegSpec{pkg: "tool", source: "tool",
		progs: map[string]string{"/usr/sbin/tool": hostProg},
		files: map[string]string{"/usr/share/tool/unused.txt": "x"}})
	cfg, _ := loadSystem(t, `
[system]
packages = ["hello"]
include = ["/usr/share/locale/de"]
exclude = ["/usr/share/locale/de/LC_MESSAGES/*", "/usr/share/hello-common"]

[service.tool]
exec = ["tool", "--serve"]
`)
	sel, err := f.sel(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := entryNames(sel)
	if _, ok := got["/usr/sbin/tool"]; !ok {
		t.Error("/usr/sbin/tool (service exec on PATH) is not in the image")
	}
	for _, p := range []string{"/usr/share/tool/unused.txt", "/usr/share/locale/de/LC_MESSAGES/hello.mo",
		"/usr/share/hello-common/theme.css"} {
		if _, ok := got[p]; ok {
			t.Errorf("%s is in the image", p)
		}
	}
	for _, u := range sel.Used {
		if u.Package == "tool" && (u.Why != "needed" || u.Files != 1) {
			t.Errorf("tool pin %+v, want needed with 1 file", u)
		}
	}
}

func TestSelectDebsServiceErrors(t *testing.T) {
	cases := []struct {
		name, toml string
		want       []string // substrings of the error
	}{
		{"no package", `
[system]
packages = ["hello"]

[service.ghost]
exec = ["/usr/bin/ghost"]
`, []string{"system.toml:6: service.ghost.exec:", "/usr/bin/ghost is in no package"}},
		{"not on PATH", `
[system]
packages = ["hello"]

[service.ghost]
exec = ["ghostd"]
`, []string{"system.toml:6: service.ghost.exec:", "ghostd is in no package"}},
		{"exec resource", `
[system]
packages = ["hello"]

[exec.init]
command = ["/usr/bin/nope", "x"]
`, []string{"system.toml:6: exec.init.command:", "/usr/bin/nope is in no package"}},
		{"library excluded", `
[system]
packages = ["hello"]
exclude = ["/usr/lib/x86_64-linux-gnu/libc.so*"]

[service.hello]
exec = ["hello"]
`, []string{"system.toml:7: service.hello.exec:", "needs libc.so.6", "(Debian: libc6 has /usr/lib/x86_64-linux-gnu/libc.so.6", `exclude "/usr/lib/x86_64-linux-gnu/libc.so*"`}},
		{"program hint", `
[system]
packages = ["hello"]
exclude = ["/usr/bin/hello"]

[service.hello]
exec = ["hello"]
`, []string{"system.toml:7: service.hello.exec:", "hello is in no package", "(Debian: hello has /usr/bin/hello"}},
	}
	// The line is exec's (or command's): config keeps it past loading.
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			cfg, _ := loadSystem(t, c.toml)
			_, err := f.sel(t, cfg)
			var errs config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("err = %v (%T), want config.Errors", err, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// A program the system writes with a [file] resource is no error, named
// by its path or bare (the supervisor finds it on PATH at boot).
func TestSelectDebsServiceProgramFromFile(t *testing.T) {
	for _, exec := range []string{"/usr/local/bin/job", "job"} {
		f := newFixture(t)
		cfg, _ := loadSystem(t, `
[system]
packages = ["hello"]

[file."/usr/local/bin/job"]
content = "#!/bin/sh\necho hi\n"
mode = "0755"

[service.job]
exec = ["`+exec+`"]
`)
		if _, err := f.sel(t, cfg); err != nil {
			t.Errorf("exec = [%q], a program a [file] resource makes: %v", exec, err)
		}
	}
}

func TestSelectDebsConffileOverride(t *testing.T) {
	f := newFixture(t)
	cfg, _ := loadSystem(t, `
[system]
packages = ["hello"]

[file."/etc/hello.conf"]
content = "mine\n"

[link."/usr/share/hello/data.txt"]
target = "/etc/hello.conf"
`)
	sel, err := f.sel(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := entryNames(sel)
	for _, p := range []string{"/etc/hello.conf", "/usr/share/hello/data.txt"} {
		if _, ok := got[p]; ok {
			t.Errorf("%s: the package's copy is in the image, the resource should replace it", p)
		}
	}
	want := []Override{
		{Path: "/etc/hello.conf", Package: "hello", Conffile: true, By: "file:/etc/hello.conf"},
		{Path: "/usr/share/hello/data.txt", Package: "hello", By: "link:/usr/share/hello/data.txt"},
	}
	if !slices.Equal(sel.Overrides, want) {
		t.Errorf("Overrides = %+v, want %+v", sel.Overrides, want)
	}
}

func TestSelectDebsSamePathTwice(t *testing.T) {
	f := newFixture(t, kegSpec{pkg: "hello-fork", source: "fork",
		files: map[string]string{"/usr/share/hello/data.txt": "other"}})
	cfg, _ := loadSystem(t, "[system]\npackages = [\"hello\"]\n")
	_, err := f.sel(t, cfg)
	if err == nil {
		t.Fatal("two packages with /usr/share/hello/data.txt: no error")
	}
	for _, w := range []string{"hello", "hello-fork", "both install /usr/share/hello/data.txt"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not name %q", err, w)
		}
	}
}

// A path the rest of the image has (unit, busybox, config) stays: the
// package's copy is not taken and is no conflict.
func TestSelectDebsBaseWins(t *testing.T) {
	f := newFixture(t)
	cfg, _ := loadSystem(t, "[system]\npackages = [\"hello\"]\n")
	base := []entry{{Name: "usr/share/hello/data.txt", Mode: 0o644, Data: []byte("base")}}
	sel, err := selectDebs(cfg, slog.New(slog.DiscardHandler), f.debs, f.named, base)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := entryNames(sel)["/usr/share/hello/data.txt"]; ok {
		t.Error("the package's copy of a base path is in the selection")
	}
}

func TestLdCacheListsLibraries(t *testing.T) {
	f := newFixture(t)
	cfg, _ := loadSystem(t, "[system]\npackages = [\"hello\"]\n")
	sel, err := f.sel(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e, err := ldCache(sel.Entries)
	if err != nil {
		t.Fatal(err)
	}
	if e.Name != "etc/ld.so.cache" || e.Mode != 0o644 {
		t.Errorf("entry %s %v, want etc/ld.so.cache 0644", e.Name, e.Mode)
	}
	ents, err := ldso.ParseCache(e.Data)
	if err != nil {
		t.Fatalf("ParseCache: %v", err)
	}
	var names []string
	for _, c := range ents {
		names = append(names, c.Soname+"="+c.Path)
	}
	if !slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "libc.so.6=/") }) {
		t.Errorf("cache lists %v, want libc.so.6", names)
	}
}

// Symlinks in a keg are taken as symlinks: the selection never reads
// what they point at on the host.
func TestSelectDebsHostileSymlinks(t *testing.T) {
	f := newFixture(t, kegSpec{pkg: "evil", source: "hello",
		links: map[string]string{
			"/usr/share/evil/rel":  "../../../../../../../etc/passwd",
			"/usr/share/evil/abs":  "/etc/passwd",
			"/usr/bin/evil":        "/etc/passwd",
			"/usr/lib/evil/lib.so": "../../../../../etc/passwd",
		}})
	cfg, _ := loadSystem(t, "[system]\npackages = [\"hello\"]\n")
	sel, err := f.sel(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := entryNames(sel)
	for p, target := range map[string]string{
		"/usr/share/evil/rel":  "../../../../../../../etc/passwd",
		"/usr/share/evil/abs":  "/etc/passwd",
		"/usr/bin/evil":        "/etc/passwd",
		"/usr/lib/evil/lib.so": "../../../../../etc/passwd",
	} {
		e, ok := got[p]
		if !ok {
			t.Errorf("%s (same-source sibling) is not in the image", p)
			continue
		}
		if e.Mode&fs.ModeSymlink == 0 || string(e.Data) != target {
			t.Errorf("%s: mode %v data %q, want the symlink to %s", p, e.Mode, e.Data, target)
		}
	}
	for p := range got {
		if p == "/etc/passwd" {
			t.Error("the host's /etc/passwd is in the image")
		}
	}

	// A service whose program is such a link finds nothing: the tree
	// resolves it inside the image, where /etc/passwd does not exist.
	cfg, _ = loadSystem(t, "[system]\npackages = [\"hello\"]\n\n[service.evil]\nexec = [\"evil\"]\n")
	_, err = f.sel(t, cfg)
	if err == nil || !strings.Contains(err.Error(), "system.toml:5: service.evil.exec: evil is in no package") {
		t.Errorf("service through a link out of the image: err = %v", err)
	}
}

func TestSelectDebsRefusesSpecialFiles(t *testing.T) {
	kinds := map[string]func(p string) error{
		"fifo": func(p string) error { return syscall.Mkfifo(p, 0o644) },
		"device": func(p string) error {
			if os.Geteuid() != 0 {
				t.Skip("making a device node needs root")
			}
			return syscall.Mknod(p, syscall.S_IFCHR|0o600, 1<<8|3) // 1:3, /dev/null
		},
	}
	for kind, mk := range kinds {
		t.Run(kind, func(t *testing.T) {
			f := newFixture(t)
			hello := f.debs[0]
			if err := mk(filepath.Join(hello.Dir, "usr/share/hello/special")); err != nil {
				t.Fatal(err)
			}
			cfg, _ := loadSystem(t, "[system]\npackages = [\"hello\"]\n")
			_, err := f.sel(t, cfg)
			if err == nil || !strings.Contains(err.Error(), "usr/share/hello/special: unsupported file type") ||
				!strings.Contains(err.Error(), "package hello") {
				t.Errorf("%s in a keg: err = %v", kind, err)
			}
		})
	}
}

// An include glob takes files of a package nothing else needs; an exclude
// glob wins over it.
func TestSelectDebsIncludeFromUnneededPackage(t *testing.T) {
	f := newFixture(t)
	cfg, _ := loadSystem(t, `
[system]
packages = ["hello"]
include = ["/usr/share/perl5/Debconf", "/usr/share/glibc"]
exclude = ["/usr/share/glibc/extra.txt"]
`)
	sel, err := f.sel(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := entryNames(sel)
	if e, ok := got["/usr/share/perl5/Debconf/Db.pm"]; !ok {
		t.Errorf("included /usr/share/perl5/Debconf/Db.pm: missing")
	} else if b, err := e.content(); err != nil || string(b) != "1;" {
		t.Errorf("included /usr/share/perl5/Debconf/Db.pm: %q, %v", b, err)
	}
	if _, ok := got["/usr/share/glibc/extra.txt"]; ok {
		t.Error("/usr/share/glibc/extra.txt is in the image: exclude should win over include")
	}
	if len(sel.Dropped) != 0 {
		t.Errorf("Dropped = %v, want none (debconf gives an included file)", sel.Dropped)
	}
	for _, u := range sel.Used {
		if u.Package == "debconf" && (u.Why != "needed" || u.Files != 1) {
			t.Errorf("debconf pin %+v, want needed with 1 file", u)
		}
	}
}

// A named package's *.so files are roots too (plugins its program opens
// with dlopen): what they load comes from other packages.
func TestSelectDebsPluginRoots(t *testing.T) {
	const hostPlugin = "/usr/lib/x86_64-linux-gnu/libselinux.so.1"
	if _, err := os.Stat(hostPlugin); err != nil {
		t.Skipf("no %s on this host", hostPlugin)
	}
	v, err := ldso.OpenDir("/")
	if err != nil {
		t.Fatal(err)
	}
	res, err := ldso.Closure(v, nil, ldso.Options{Extra: []string{hostPlugin}})
	v.Close()
	if err != nil || res.Err() != nil {
		t.Skipf("host closure of %s: %v %v", hostPlugin, err, res.Err())
	}
	libc := map[string]bool{}
	for _, p := range hostClosure(t) {
		libc[p] = true
	}
	var deps []string // what the plugin needs beyond libc
	for _, p := range res.Files {
		if !libc[p] && p != hostPlugin {
			deps = append(deps, p)
		}
	}
	if len(deps) == 0 {
		t.Skipf("%s needs nothing beyond libc here", hostPlugin)
	}
	f := newFixture(t,
		kegSpec{pkg: "hello-mods", source: "hello",
			progs: map[string]string{"/usr/lib/hello/modules/mod_x.so": hostPlugin}},
		kegSpec{pkg: "libdep", source: "dep", hostPaths: deps,
			files: map[string]string{"/usr/share/dep/unused.txt": "x"}})
	cfg, _ := loadSystem(t, "[system]\npackages = [\"hello\"]\n")
	sel, err := f.sel(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := entryNames(sel)
	for _, p := range append(deps, "/usr/lib/hello/modules/mod_x.so") {
		if _, ok := got[p]; !ok {
			t.Errorf("%s (the plugin's closure) is not in the image", p)
		}
	}
	if _, ok := got["/usr/share/dep/unused.txt"]; ok {
		t.Error("/usr/share/dep/unused.txt is in the image")
	}
	for _, u := range sel.Used {
		if u.Package == "libdep" && u.Why != "needed" {
			t.Errorf("libdep pin %+v, want needed", u)
		}
	}
}

// A keg file swapped for a symlink (or a fifo) after the walk is not
// read through: the entry is refused, not the host file it points at.
func TestKegFileEntryNoFollow(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "usr/share/x")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("ok"), 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := kegFiles(dir)
	if err != nil || len(files) != 1 {
		t.Fatalf("kegFiles = %v, %v", files, err)
	}
	if b, err := files[0].entry().content(); err != nil || string(b) != "ok" {
		t.Fatalf("entry = %q, %v", b, err)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", p); err != nil {
		t.Fatal(err)
	}
	if b, err := files[0].entry().content(); err == nil {
		t.Errorf("entry through a swapped-in symlink read %d bytes, want an error", len(b))
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := files[0].entry().content(); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("entry of a swapped-in fifo: err = %v", err)
	}
}

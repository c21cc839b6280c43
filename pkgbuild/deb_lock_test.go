package pkgbuild

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goodSum = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func lockEntry(name, version, file string) string {
	return "\n[[deb]]\nname = '" + name + "'\nversion = '" + version + "'\narch = 'all'\nsha256 = '" + goodSum + "'\nfilename = '" + file + "'\nsource = 'x'\ndepends = []\n"
}

// TestLockErrors: a lock that does not parse, belongs to another package,
// or carries hostile values is refused at its file:line.
func TestLockErrors(t *testing.T) {
	head := "package = 'app'\ntop = 'app'\n"
	app := lockEntry("app", "1.0", "app_1.0_all.deb")
	for _, tc := range []struct {
		name, lock, want string
	}{
		{"syntax", head + "[[deb]\n", "app.lock:3:"},
		{"unknown key", head + "colour = 'red'\n", `app.lock:3: unknown key "colour"`},
		{"other package", "package = 'redis'\ntop = 'redis'\n" + app, `app.lock:1: lock is for package "redis"`},
		{"top missing", head + lockEntry("lib", "1", "lib_1_all.deb"), `app.lock:2: top package "app" is not pinned`},
		{"path in name", head + app + lockEntry("../etc", "1", "x_1_all.deb"), `app.lock:13: package name "../etc"`},
		{"path in version", head + app + lockEntry("lib", "1/../../x", "lib_1_all.deb"), `app.lock:13: lib: version "1/../../x"`},
		{"path in filename", head + app + lockEntry("lib", "1", "../../lib_1_all.deb"), `app.lock:13: lib: filename`},
		{"bad sha", head + strings.Replace(app, goodSum, "abc", 1), `app.lock:4: app: sha256 "abc"`},
		{"dangling depends", head + strings.Replace(app, "depends = []", "depends = ['ghost']", 1), `app.lock:4: app depends on ghost, which the lock does not pin`},
		{"twice", head + app + app, `app.lock:13: package app pinned twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "app.lock")
			if err := os.WriteFile(p, []byte(tc.lock), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := readLock(p, Source{Deb: "app", Version: Candidate})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestLockRoundTrip: what writeLock writes, readLock reads back equal,
// sorted by package; a missing lock is no error and no lock.
func TestLockRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "app.lock")
	if l, err := readLock(p, Source{Deb: "app"}); l != nil || err != nil {
		t.Fatalf("missing lock: %v %v", l, err)
	}
	in := &Lock{Package: "app", Top: "app", Debs: []DebInfo{
		{Package: "zlib", Version: "1:1.2", Arch: "amd64", SHA256: goodSum, Filename: "zlib_1%3a1.2_amd64.deb", Source: "zlib", Depends: []string{}},
		{Package: "app", Version: "1.0", Arch: "all", SHA256: goodSum, Filename: "app_1.0_all.deb", Source: "app", Depends: []string{"zlib"}, Essential: true, Priority: "required"},
	}}
	if err := writeLock(p, in); err != nil {
		t.Fatal(err)
	}
	out, err := readLock(p, Source{Deb: "app", Version: "1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Debs) != 2 || out.Debs[0].Package != "app" || !out.Debs[0].Essential || out.Debs[1].Version != "1:1.2" || out.Debs[0].Depends[0] != "zlib" {
		t.Errorf("read back %+v", out.Debs)
	}
	if _, err := readLock(p, Source{Deb: "app", Version: "2.0"}); err == nil || !strings.Contains(err.Error(), "recipe asks for 2.0") {
		t.Errorf("version mismatch: %v", err)
	}
	if left, _ := filepath.Glob(p + "*tmp*"); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
}

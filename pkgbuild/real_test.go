package pkgbuild

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRealDebianPackages builds two of packages/ for real: GNU hello from
// Debian's source package (orig tarball + Debian patches, autotools in the
// sandbox) and busybox from Debian's binary package. Downloads come from
// the machine's apt mirror through the shared source cache; the store is
// fresh, so both really build.
func TestRealDebianPackages(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no Debian downloads")
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skip("no apt-get")
	}
	cache, err := DefaultCache()
	if err != nil {
		t.Fatal(err)
	}
	progress := &syncBuffer{}
	b, err := NewBuilder(Options{Store: filepath.Join(t.TempDir(), "store"), Cache: cache, Progress: progress, Tick: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	res := build(t, b, "../packages/hello.toml", "../packages/busybox.toml")
	t.Logf("progress:\n%s", progress)

	hello := res["hello"].Keg
	out, err := exec.Command(filepath.Join(hello.Dir, "usr/bin/hello")).Output()
	if err != nil || strings.TrimSpace(string(out)) != "Hello, world!" {
		t.Errorf("hello from the keg: %q %v", out, err)
	}
	var files []string
	for _, s := range hello.Sources {
		for _, f := range s.Files {
			files = append(files, f.Name)
			if len(f.SHA256) != 64 {
				t.Errorf("%s: sha256 %q not recorded", f.Name, f.SHA256)
			}
		}
	}
	if !strings.Contains(strings.Join(files, " "), ".orig.tar") || !strings.Contains(strings.Join(files, " "), ".debian.tar") {
		t.Errorf("hello's recorded sources %v: want the orig tarball and Debian's changes", files)
	}
	if _, err := os.Stat(filepath.Join(hello.Dir, "usr/share")); err == nil {
		t.Error("install op delete usr/share did not run")
	}

	bb := res["busybox"].Keg
	if bb.Version == Candidate || !strings.Contains(bb.Version, "1.") {
		t.Errorf("busybox version %q: want the resolved Debian version", bb.Version)
	}
	if out, err := exec.Command(filepath.Join(bb.Dir, "bin/busybox"), "echo", "ok").Output(); err != nil || string(out) != "ok\n" {
		t.Errorf("busybox from the keg: %q %v", out, err)
	}
}

// TestDebPinnedSHA256Mismatch: a deb source pinned to an exact version
// with a sha256 that is not the one in apt's (signed) index fails at the
// recipe's source before anything is downloaded or stored.
func TestDebPinnedSHA256Mismatch(t *testing.T) {
	if _, err := exec.LookPath("apt-cache"); err != nil {
		t.Skip("no apt-cache")
	}
	out, err := exec.Command("apt-cache", "policy", "busybox-static").Output()
	if err != nil {
		t.Skip("apt-cache policy:", err)
	}
	ver, err := ParseCandidate(out)
	if err != nil {
		t.Skip("busybox-static:", err)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"bb.toml": `name = "bb"
version = "1"

[[source]]
deb = "busybox-static"
version = "` + ver + `"
sha256 = "` + strings.Repeat("1", 64) + `"
`})
	b, _ := testBuilder(t, 1)
	_, err = b.Build(t.Context(), []string{filepath.Join(dir, "bb.toml")})
	if err == nil || !strings.Contains(err.Error(), "bb.toml:4:") || !strings.Contains(err.Error(), "sha256 mismatch: apt has") {
		t.Fatalf("error %v: want a sha256 mismatch at bb.toml:4", err)
	}
	if got := storeEntries(t, b.Store()); len(got) > 0 {
		t.Errorf("store has %v", got)
	}
}

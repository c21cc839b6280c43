package pkgbuild_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unit-os/unit/pkgbuild"
	"github.com/unit-os/unit/pkgbuild/pkgtest"
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
	cache, err := pkgbuild.DefaultCache()
	if err != nil {
		t.Fatal(err)
	}
	progress := &bytes.Buffer{} // the builder writes one line at a time
	b, err := pkgbuild.NewBuilder(pkgbuild.Options{Store: filepath.Join(t.TempDir(), "store"), Cache: cache, Progress: progress, Tick: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// The committed recipes and locks, through the one helper that re-pins
	// what left the archive.
	recipes := pkgtest.Recipes(t, "../packages", filepath.Join(t.TempDir(), "packages"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	results, err := b.Build(ctx, []string{filepath.Join(recipes, "hello.toml"), filepath.Join(recipes, "busybox.toml")})
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	res := map[string]*pkgbuild.Result{}
	for _, r := range results {
		res[r.Recipe.Name] = r
	}
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
	if bb.Version == pkgbuild.Candidate || !strings.Contains(bb.Version, "1.") {
		t.Errorf("busybox version %q: want the resolved Debian version", bb.Version)
	}
	if out, err := exec.Command(filepath.Join(bb.Dir, "bin/busybox"), "echo", "ok").Output(); err != nil || string(out) != "ok\n" {
		t.Errorf("busybox from the keg: %q %v", out, err)
	}
}

package pkgbuild

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestRealDebClosureRedis resolves and builds the one-source recipe
// `deb = "redis-server"` against this machine's apt sources: the lock
// pins the closure and libc6 and libjemalloc2 become kegs of their own
// that Closure returns. It downloads the closure's .debs (tens of MB).
func TestRealDebClosureRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no Debian downloads")
	}
	if _, err := exec.LookPath("apt-cache"); err != nil {
		t.Skip("no apt-cache")
	}
	out, err := exec.Command("apt-cache", "policy", "redis-server").Output()
	if err != nil {
		t.Skip("apt-cache policy:", err)
	}
	if _, err := ParseCandidate(out); err != nil {
		t.Skip("apt has no lists with redis-server:", err)
	}
	dir := t.TempDir()
	recipe := debRecipe(t, dir, "redis", "redis-server")
	b, _ := testBuilder(t, 2)
	k := build(t, b, recipe)["redis"].Keg
	if k.Deb == nil || k.Deb.Package != "redis-server" || k.Deb.Source != "redis" {
		t.Fatalf("redis keg deb info %+v", k.Deb)
	}
	if _, err := os.Lstat(filepath.Join(k.Dir, "usr/bin/redis-server")); err != nil {
		t.Errorf("redis keg: %v", err)
	}
	pinned := lockVersions(t, filepath.Join(dir, "redis.lock"), "redis-server")
	kegs, err := Closure(b.Store(), []string{"redis"})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]*Keg{}
	for _, c := range kegs {
		have[c.Name] = c
	}
	for _, want := range []string{"libc6", "libjemalloc2"} {
		c := have[want]
		if c == nil || c.Deb == nil || pinned[want] == "" || c.Version != pinned[want] {
			t.Errorf("%s: keg %+v, pinned %q", want, c, pinned[want])
		}
	}
	if libc := have["libc6"]; libc != nil && libc.Deb != nil && libc.Deb.Source != "glibc" {
		t.Errorf("libc6 source %q, want glibc", libc.Deb.Source)
	}
}

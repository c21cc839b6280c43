package image

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestReproducibleUnderVariation builds the same disk image twice, the
// second time as reprotest would vary it: another output path (deeper),
// TMPDIR, umask, time zone and locale, and no compression caches (so
// zstd and mksquashfs really run again, under that environment). Every
// output must be the same bytes.
func TestReproducibleUnderVariation(t *testing.T) {
	tmp, system, initBin, log := diskBuildSetup(t, "[system]\nhostname = \"vary\"\nmodules = [\"virtio_net\"]\ndata = { size = \"32M\" }\n\n[file.\"/srv/x\"]\ncontent = \"x\\n\"\n")
	build := func(out, cache string) {
		t.Helper()
		if _, err := Build(context.Background(), Options{System: system, Out: out, Init: initBin, CacheDir: cache, Format: FormatDisk, Log: log}); err != nil {
			t.Fatal(err)
		}
	}
	a := filepath.Join(tmp, "a")
	build(a, testCache())

	// The varied build: downloads shared, compression caches not.
	cache := filepath.Join(tmp, "cache")
	os.MkdirAll(cache, 0o755)
	entries, err := os.ReadDir(testCache())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == "zstd" || e.Name() == "squashfs" {
			continue
		}
		os.Symlink(filepath.Join(testCache(), e.Name()), filepath.Join(cache, e.Name()))
	}
	tmpdir := filepath.Join(tmp, "other-tmp")
	os.MkdirAll(tmpdir, 0o755)
	t.Setenv("TMPDIR", tmpdir)
	t.Setenv("TZ", "Pacific/Kiritimati")
	t.Setenv("LC_ALL", "de_DE.UTF-8")
	t.Setenv("LANG", "de_DE.UTF-8")
	old := syscall.Umask(0o077)
	b := filepath.Join(tmp, "some", "deeper", "place", "b")
	build(b, cache)
	syscall.Umask(old)

	for _, name := range []string{DiskName, UKIName, ManifestName, InitramfsName, RootName, VmlinuzName} {
		x, _ := os.ReadFile(filepath.Join(a, name))
		y, _ := os.ReadFile(filepath.Join(b, name))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s differs under variation (%d and %d bytes)", name, len(x), len(y))
		}
	}
	if _, err := os.Stat(filepath.Join(cache, "zstd")); err != nil {
		t.Errorf("the varied build did not compress afresh: %v", err)
	}
}

package platform

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/unit-os/unit/disk/disktest"
)

// TestFSLabel reads the label of seeds made by genisoimage and mtools,
// and nothing from what is neither.
func TestFSLabel(t *testing.T) {
	for _, kind := range []string{"iso9660", "vfat"} {
		f, err := os.Open(disktest.Seed(t, kind, "cidata", "instance-id: i-1\n"))
		if err != nil {
			t.Fatal(err)
		}
		fstype, label, ok := FSLabel(f)
		f.Close()
		if !ok || fstype != kind || !strings.EqualFold(label, "cidata") {
			t.Errorf("%s: %q %q %v", kind, fstype, label, ok)
		}
	}
	other := filepath.Join(t.TempDir(), "zeros")
	os.WriteFile(other, make([]byte, 1<<20), 0o644)
	f, _ := os.Open(other)
	defer f.Close()
	if _, _, ok := FSLabel(f); ok {
		t.Error("zeros have a label")
	}
}

// TestParseMetaData takes the flat keys of NoCloud meta-data as facts and
// refuses what it would only half read, naming the line.
func TestParseMetaData(t *testing.T) {
	got, err := parseMetaData([]byte("---\n# a comment\ninstance-id: iid-abc\nlocal-hostname: web-1\nrole: \"web\"\ndc: ams # Amsterdam\nempty-ok: ''\n"))
	want := map[string]string{"instance_id": "iid-abc", "local_hostname": "web-1", "role": "web", "dc": "ams", "empty_ok": ""}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{
		"network:\n  version: 2\n",
		"public-keys:\n- ssh-ed25519 AAAA\n",
		"a: {b: c}\n",
		"a: [1, 2]\n",
		"no colon here\n",
		"bad key!: x\n",
		"user-data: |\n",
		strings.Repeat("a: b\n", 20000),
	} {
		if _, err := parseMetaData([]byte(bad)); err == nil {
			t.Errorf("%.40q: taken", bad)
		}
	}
	if _, err := parseMetaData([]byte("ok: 1\nnested:\n  x: y\n")); err == nil || !strings.Contains(err.Error(), "meta-data:2:") {
		t.Errorf("the error does not name the line: %v", err)
	}
}

// TestReadSeed reads a mounted seed's meta-data, as ISO 9660 names it
// too, into facts with seed = nocloud; a link, a missing file, too much
// or a nested value is no facts, said.
func TestReadSeed(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "META-DATA.;1"), []byte("instance-id: i-1\nrole: web\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSeed(dir)
	want := map[string]string{"instance_id": "i-1", "role": "web", "seed": "nocloud"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}

	target := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.WriteFile(target, []byte("role: forged\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for what, c := range map[string]struct {
		setup func(dir string) error
		err   string
	}{
		"a link": {func(dir string) error { return os.Symlink(target, filepath.Join(dir, "meta-data")) }, "not a regular file"},
		"none":   {func(string) error { return nil }, "no meta-data"},
		"too much": {func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "meta-data"), []byte(strings.Repeat("a: b\n", 20000)), 0o644)
		}, "at most 64 KiB"},
		"nested": {func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "meta-data"), []byte("ok: 1\nnested:\n  x: y\n"), 0o644)
		}, "meta-data:2:"},
	} {
		dir := t.TempDir()
		if err := c.setup(dir); err != nil {
			t.Fatal(err)
		}
		if got, err := ReadSeed(dir); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: got %v, %v; want an error saying %q", what, got, err, c.err)
		}
	}
}

package platform

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// seedImage makes a NoCloud seed with a real tool: an ISO 9660 by
// genisoimage (what cloud-localds makes) or a FAT by mtools.
func seedImage(t *testing.T, kind, label, metaData string) string {
	t.Helper()
	dir := t.TempDir()
	md := filepath.Join(dir, "meta-data")
	if err := os.WriteFile(md, []byte(metaData), 0o644); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "seed.img")
	var cmds [][]string
	switch kind {
	case "iso9660":
		cmds = [][]string{{"genisoimage", "-quiet", "-output", img, "-volid", label, "-joliet", "-rock", md}}
	case "vfat":
		cmds = [][]string{{"mformat", "-C", "-i", img, "-T", "4096", "-v", label, "::"}, {"mcopy", "-i", img, md, "::/meta-data"}}
	}
	for _, c := range cmds {
		if _, err := exec.LookPath(c[0]); err != nil {
			t.Skipf("%s not installed", c[0])
		}
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", c, err, out)
		}
	}
	return img
}

// TestFSLabel reads the label of seeds made by genisoimage and mtools,
// and nothing from what is neither.
func TestFSLabel(t *testing.T) {
	for _, kind := range []string{"iso9660", "vfat"} {
		f, err := os.Open(seedImage(t, kind, "cidata", "instance-id: i-1\n"))
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

package pid1

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/unit-os/unit/disk/disktest"
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
		fstype, label, ok := fsLabel(f)
		f.Close()
		if !ok || fstype != kind || !strings.EqualFold(label, "cidata") {
			t.Errorf("%s: %q %q %v", kind, fstype, label, ok)
		}
	}
	other := filepath.Join(t.TempDir(), "zeros")
	os.WriteFile(other, make([]byte, 1<<20), 0o644)
	f, _ := os.Open(other)
	defer f.Close()
	if _, _, ok := fsLabel(f); ok {
		t.Error("zeros have a label")
	}
}

// TestFindSeed finds the one volume labelled cidata among the disks and
// refuses to choose between two.
func TestFindSeed(t *testing.T) {
	f := disktest.NewBlock(t)
	f.Disk("vda", disktest.ESPGUID, disktest.RootGUID, map[string]string{"1": "vda1", "3": "vda3"})
	iso := seedImage(t, "iso9660", "CIDATA", "instance-id: i-1\n")
	if err := os.Rename(iso, filepath.Join(f.Dev, "vdb")); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(f.Sys, "vdb"), 0o755)
	dev, fstype, err := findSeed(f.Devices)
	if err != nil || dev != filepath.Join(f.Dev, "vdb") || fstype != "iso9660" {
		t.Fatalf("findSeed: %q %q %v", dev, fstype, err)
	}
	fat := seedImage(t, "vfat", "cidata", "instance-id: i-2\n")
	if err := os.Rename(fat, filepath.Join(f.Dev, "vdc")); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(f.Sys, "vdc"), 0o755)
	if _, _, err := findSeed(f.Devices); err == nil || !strings.Contains(err.Error(), "two volumes labelled cidata") {
		t.Errorf("two seeds: %v", err)
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

// TestSeedFleetToken: a seed's fleet token is a secret; it goes to its
// own root-only file, never into the world-readable facts.
func TestSeedFleetToken(t *testing.T) {
	dir := t.TempDir()
	factsPath, tokenPath := filepath.Join(dir, "platform.json"), filepath.Join(dir, "fleet.token")
	facts, err := parseMetaData([]byte("instance-id: i-1\nfleet-token: s3cr3t-once\nrole: web\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := keepSeed(facts, factsPath, tokenPath); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(factsPath)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "s3cr3t") || strings.Contains(string(b), "fleet_token") {
		t.Errorf("the token is in the facts: %s", b)
	}
	if !strings.Contains(string(b), `"role":"web"`) {
		t.Errorf("facts: %s", b)
	}
	if _, ok := facts[fleetTokenKey]; ok {
		t.Error("the token is left in the facts the console prints")
	}
	st, err := os.Lstat(tokenPath)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Mode().IsRegular() || st.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, want a regular file 0600", tokenPath, st.Mode())
	}
	if b, _ := os.ReadFile(tokenPath); string(b) != "s3cr3t-once" {
		t.Errorf("token %q", b)
	}
	if st, _ := os.Stat(factsPath); st.Mode().Perm() != 0o644 {
		t.Errorf("%s: mode %v", factsPath, st.Mode())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}

	// A seed without one writes none.
	dir = t.TempDir()
	if err := keepSeed(map[string]string{"role": "web"}, filepath.Join(dir, "platform.json"), filepath.Join(dir, "fleet.token")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "fleet.token")); err == nil {
		t.Error("a token file without a token")
	}
}

package pid1

import (
	"os"
	"os/exec"
	"path/filepath"
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

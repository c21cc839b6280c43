package pid1

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unit-os/unit/disk/disktest"
)

// TestFindSeed finds the one volume labelled cidata among the disks and
// refuses to choose between two.
func TestFindSeed(t *testing.T) {
	f := disktest.NewBlock(t)
	f.Disk("vda", disktest.ESPGUID, disktest.RootGUID, map[string]string{"1": "vda1", "3": "vda3"})
	iso := disktest.Seed(t, "iso9660", "CIDATA", "instance-id: i-1\n")
	if err := os.Rename(iso, filepath.Join(f.Dev, "vdb")); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(f.Sys, "vdb"), 0o755)
	dev, fstype, err := findSeed(f.Devices)
	if err != nil || dev != filepath.Join(f.Dev, "vdb") || fstype != "iso9660" {
		t.Fatalf("findSeed: %q %q %v", dev, fstype, err)
	}
	fat := disktest.Seed(t, "vfat", "cidata", "instance-id: i-2\n")
	if err := os.Rename(fat, filepath.Join(f.Dev, "vdc")); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(f.Sys, "vdc"), 0o755)
	if _, _, err := findSeed(f.Devices); err == nil || !strings.Contains(err.Error(), "two volumes labelled cidata") {
		t.Errorf("two seeds: %v", err)
	}
}

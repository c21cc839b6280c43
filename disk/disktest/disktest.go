// Package disktest makes disks for tests: GPT images written by sgdisk
// (a writer independent of unit's) and a sysfs-like tree of them that a
// disk.Devices reads as the machine's block devices.
package disktest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/unit-os/unit/disk"
)

// GUIDs the tests' disks carry.
const (
	ESPGUID  = "11111111-2222-4333-8444-555555555555"
	RootGUID = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ef"
)

// Image makes a 20 MiB disk image with sgdisk (an independent
// writer of GPTs): partition 1 and partition 3 with the given GUIDs.
func Image(t testing.TB, dir, name, guid1, guid3 string) string {
	t.Helper()
	if _, err := exec.LookPath("sgdisk"); err != nil {
		t.Skip("sgdisk not installed (gdisk)")
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, 20<<20); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("sgdisk", "-n", "1:2048:+4M", "-t", "1:ef00", "-u", "1:"+guid1,
		"-n", "3:0:+4M", "-t", "3:8304", "-u", "3:"+guid3, p).CombinedOutput()
	if err != nil {
		t.Fatalf("sgdisk: %v\n%s", err, out)
	}
	return p
}

// Block lays out a sysfs-like tree (sys/DISK/queue, sys/DISK/PART/
// partition) and device "nodes" that are disk images made by sgdisk.
type Block struct {
	disk.Devices
	t   testing.TB
	dir string
}

// NewBlock is an empty Block in a temporary directory.
func NewBlock(t testing.TB) *Block {
	dir := t.TempDir()
	for _, d := range []string{"sys", "dev"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &Block{t: t, dir: dir, Devices: disk.Devices{Sys: filepath.Join(dir, "sys"), Dev: filepath.Join(dir, "dev"), Open: os.Open}}
}

// Disk adds a disk whose partitions 1 and 3 have the given GUIDs, and
// sysfs entries for the partitions named in parts (number → name).
func (f *Block) Disk(name, guid1, guid3 string, parts map[string]string) {
	Image(f.t, filepath.Join(f.dir, "dev"), name, guid1, guid3)
	f.Write(name+"/queue/logical_block_size", "512\n")
	for n, part := range parts {
		f.Write(name+"/"+part+"/partition", n+"\n")
	}
}

// Write writes a file of the sysfs tree, rel to its top.
func (f *Block) Write(rel, text string) {
	f.t.Helper()
	p := filepath.Join(f.Sys, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// Seed makes a NoCloud seed with a real tool: an ISO 9660 by
// genisoimage (what cloud-localds makes) or a FAT by mtools.
func Seed(t *testing.T, kind, label, metaData string) string {
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

package pid1

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeBlock lays out a sysfs-like tree (sys/DISK/queue, sys/DISK/PART/
// partition) and device "nodes" that are disk images made by sgdisk.
type fakeBlock struct {
	t   *testing.T
	dir string
	b   blockDevs
}

func newFakeBlock(t *testing.T) *fakeBlock {
	dir := t.TempDir()
	for _, d := range []string{"sys", "dev"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &fakeBlock{t: t, dir: dir, b: blockDevs{sys: filepath.Join(dir, "sys"), dev: filepath.Join(dir, "dev"), open: os.Open}}
}

// disk adds a disk whose partitions 1 and 3 have the given GUIDs, and
// sysfs entries for the partitions named in parts (number → name).
func (f *fakeBlock) disk(name, guid1, guid3 string, parts map[string]string) {
	sgdiskImage(f.t, filepath.Join(f.dir, "dev"), name, guid1, guid3)
	write := func(rel, text string) {
		p := filepath.Join(f.b.sys, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			f.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			f.t.Fatal(err)
		}
	}
	write(name+"/queue/logical_block_size", "512\n")
	for n, part := range parts {
		write(name+"/"+part+"/partition", n+"\n")
	}
}

func TestFindPartitionByPARTUUID(t *testing.T) {
	f := newFakeBlock(t)
	f.disk("vda", testESPGUID, "cccccccc-0000-4000-8000-000000000001", map[string]string{"1": "vda1", "3": "vda3"})
	f.disk("nvme0n1", testESPGUID, testRootGUID, map[string]string{"1": "nvme0n1p1", "3": "nvme0n1p3"})
	if err := os.WriteFile(filepath.Join(f.b.dev, "loop0"), []byte("not a disk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(f.b.sys, "loop0"), 0o755); err != nil {
		t.Fatal(err)
	}
	dev, err := waitPartition(context.Background(), f.b, testRootGUID, 5*time.Second)
	if err != nil || dev != filepath.Join(f.b.dev, "nvme0n1p3") {
		t.Fatalf("found %q, %v; want nvme0n1p3 (partition 3 of the disk with the GUID, by its sysfs name)", dev, err)
	}
}

func TestFindPartitionRefusesTwo(t *testing.T) {
	f := newFakeBlock(t)
	f.disk("vda", testESPGUID, testRootGUID, map[string]string{"3": "vda3"})
	f.disk("sda", testESPGUID, testRootGUID, map[string]string{"3": "sda3"})
	_, err := waitPartition(context.Background(), f.b, testRootGUID, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "refusing to guess") {
		t.Fatalf("err = %v, want a refusal naming both partitions", err)
	}
}

// TestFindPartitionTimesOut: a PARTUUID that is not there fails after the
// bound, and the error says what was looked for and what was seen.
func TestFindPartitionTimesOut(t *testing.T) {
	f := newFakeBlock(t)
	// The GPT names partition 3, but the kernel has no device for it.
	f.disk("vda", testESPGUID, testRootGUID, map[string]string{"1": "vda1"})
	start := time.Now()
	_, err := waitPartition(context.Background(), f.b, testRootGUID, time.Second)
	if err == nil {
		t.Fatal("found a partition that has no device")
	}
	for _, want := range []string{"PARTUUID=" + testRootGUID, "after 1s", "vda: 1=" + testESPGUID, "3=" + testRootGUID + " (no device yet)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if d := time.Since(start); d < time.Second || d > 30*time.Second {
		t.Errorf("gave up after %s, want the 1s bound", d)
	}
}

func TestOpenBlockRefuses(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	if f, err := openBlock(file); err == nil || !strings.Contains(err.Error(), "not a block device") {
		t.Errorf("regular file: %v", err)
		if f != nil {
			f.Close()
		}
	}
	if f, err := openBlock(link); err == nil {
		f.Close()
		t.Error("followed a symlink")
	}
}

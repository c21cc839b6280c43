package disk_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unit-os/unit/disk"
	"github.com/unit-os/unit/disk/disktest"
)

func TestFindPartitionByPARTUUID(t *testing.T) {
	f := disktest.NewBlock(t)
	f.Disk("vda", disktest.ESPGUID, "cccccccc-0000-4000-8000-000000000001", map[string]string{"1": "vda1", "3": "vda3"})
	f.Disk("nvme0n1", disktest.ESPGUID, disktest.RootGUID, map[string]string{"1": "nvme0n1p1", "3": "nvme0n1p3"})
	if err := os.WriteFile(filepath.Join(f.Dev, "loop0"), []byte("not a disk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(f.Sys, "loop0"), 0o755); err != nil {
		t.Fatal(err)
	}
	dev, err := f.WaitPartition(context.Background(), disktest.RootGUID, 5*time.Second)
	if err != nil || dev != filepath.Join(f.Dev, "nvme0n1p3") {
		t.Fatalf("found %q, %v; want nvme0n1p3 (partition 3 of the disk with the GUID, by its sysfs name)", dev, err)
	}
}

func TestFindPartitionRefusesTwo(t *testing.T) {
	f := disktest.NewBlock(t)
	f.Disk("vda", disktest.ESPGUID, disktest.RootGUID, map[string]string{"3": "vda3"})
	f.Disk("sda", disktest.ESPGUID, disktest.RootGUID, map[string]string{"3": "sda3"})
	_, err := f.WaitPartition(context.Background(), disktest.RootGUID, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "refusing to guess") {
		t.Fatalf("err = %v, want a refusal naming both partitions", err)
	}
}

// TestFindPartitionTimesOut: a PARTUUID that is not there fails after the
// bound, and the error says what was looked for and what was seen.
func TestFindPartitionTimesOut(t *testing.T) {
	f := disktest.NewBlock(t)
	// The GPT names partition 3, but the kernel has no device for it.
	f.Disk("vda", disktest.ESPGUID, disktest.RootGUID, map[string]string{"1": "vda1"})
	start := time.Now()
	_, err := f.WaitPartition(context.Background(), disktest.RootGUID, time.Second)
	if err == nil {
		t.Fatal("found a partition that has no device")
	}
	for _, want := range []string{"PARTUUID=" + disktest.RootGUID, "after 1s", "vda: 1=" + disktest.ESPGUID, "3=" + disktest.RootGUID + " (no device yet)"} {
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
	if f, err := disk.OpenBlock(file); err == nil || !strings.Contains(err.Error(), "not a block device") {
		t.Errorf("regular file: %v", err)
		if f != nil {
			f.Close()
		}
	}
	if f, err := disk.OpenBlock(link); err == nil {
		f.Close()
		t.Error("followed a symlink")
	}
}

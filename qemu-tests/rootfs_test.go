package qemutests

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/unit-os/unit/image"
)

// TestImageDiskRootFailures boots the kernel and initramfs of a disk
// image directly (no firmware: quicker) with its root partition broken,
// then with no disk at all. Each time unit in the initramfs must say on
// the console what it looked for and why it failed, and stay up until the
// reboot it announces: PID 1 exiting would panic the kernel (and end
// qemu, through panic=-1).
func TestImageDiskRootFailures(t *testing.T) {
	dir := buildFormat(t, exampleWith(t, ""), image.FormatDisk)
	m := readManifest(t, dir)
	if m.Disk == nil {
		t.Fatal("manifest: no disk")
	}
	uuid := regexp.QuoteMeta(m.Disk.Slots[0].PARTUUID) // slot a

	// A root partition whose squashfs superblock is gone.
	disk := filepath.Join(dir, image.DiskName)
	f, err := os.OpenFile(disk, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	rootAt := m.Disk.DiskSize - 1<<20 - 2*m.Disk.SlotSize // slots a and b are last, before the backup table's MiB
	if _, err := f.WriteAt(make([]byte, 4096), rootAt); err != nil {
		t.Fatal(err)
	}
	f.Close()
	vm := bootWith(t, dir, image.RunOptions{Format: image.FormatInitramfs})
	vm.Expect(`^unit: cannot boot the root: root PARTUUID=`+uuid+`: mount /dev/vda2 \(squashfs\) on /run/unit/root/image read-only: `, 0, 60*time.Second)
	vm.Expect(`^unit: rebooting in 10s \(the boot loader falls back to the other slot if this one was on trial\)`, 0, 10*time.Second)
	stillUp(t, vm)

	// No disk: the partition never appears; the wait is bounded.
	bare := t.TempDir()
	for _, name := range []string{image.VmlinuzName, image.InitramfsName, image.ManifestName} {
		if err := os.Link(filepath.Join(dir, name), filepath.Join(bare, name)); err != nil {
			t.Fatal(err)
		}
	}
	vm = bootWith(t, bare, image.RunOptions{Format: image.FormatInitramfs, Append: "unit.rootwait=3"})
	vm.Expect(`^unit: cannot boot the root: no partition with PARTUUID=`+uuid+` after 3s; disks seen \(partition=PARTUUID\): no disks`, 0, 60*time.Second)
	stillUp(t, vm)
}

// stillUp fails the test if the kernel panics (PID 1 died) or qemu ends
// within a few seconds.
func stillUp(t *testing.T, vm *VM) {
	t.Helper()
	if vm.sees(`Kernel panic|Attempted to kill init`, 5*time.Second) {
		t.Fatalf("the kernel panicked: PID 1 died")
	}
	select {
	case <-vm.done:
		t.Fatalf("qemu exited: %v", vm.err)
	default:
	}
	vm.kill()
}

// memProbe prints the guest's memory once every service is up (it
// requires web, which requires syslogd), then powers off.
const memProbe = `
[service.memprobe]
requires = ["service:web"]
restart  = "never"
exec = ["/bin/sh", "-c", "echo MEM $(grep -E '^(MemTotal|MemFree|MemAvailable|Cached|Shmem):' /proc/meminfo | tr -s ' ' | tr '\\n' ' '); unit poweroff"]
`

// meminfo is the memprobe's line, in kB.
type meminfo struct{ total, free, avail, cached, shmem int }

func readMem(t *testing.T, vm *VM) meminfo {
	t.Helper()
	i := vm.Expect(`\[memprobe\] MEM MemTotal:`, 0, 90*time.Second)
	vm.mu.Lock()
	line := vm.lines[i]
	vm.mu.Unlock()
	var m meminfo
	for k, p := range map[string]*int{"MemTotal": &m.total, "MemFree": &m.free, "MemAvailable": &m.avail, "Cached": &m.cached, "Shmem": &m.shmem} {
		s := regexp.MustCompile(`\b` + k + `: (\d+) kB`).FindStringSubmatch(line)
		if s == nil {
			t.Fatalf("no %s in %q", k, line)
		}
		*p, _ = strconv.Atoi(s[1])
	}
	vm.Expect(`^unit: power off`, 0, 60*time.Second)
	if err := vm.Wait(60 * time.Second); err != nil {
		t.Fatalf("did not power off cleanly: %v", err)
	}
	return m
}

// TestImageRAM boots the example in both formats and compares the memory
// the guest has left once all services run. The initramfs format keeps
// the whole system in RAM (as tmpfs: Shmem); the disk format reads it from
// the squashfs partition into the page cache, which the kernel can
// reclaim, and frees its small initramfs when it switches to the root.
func TestImageRAM(t *testing.T) {
	sys := exampleWith(t, memProbe)
	ram := buildFormat(t, sys, image.FormatInitramfs)
	disk := buildFormat(t, sys, image.FormatDisk)
	i := readMem(t, bootWith(t, ram, image.RunOptions{}))
	d := readMem(t, bootWith(t, disk, image.RunOptions{}))
	for _, c := range []struct {
		name string
		m    meminfo
	}{{"initramfs", i}, {"disk (UEFI)", d}} {
		t.Logf("%-11s MemTotal %6d kB, MemAvailable %6d kB, MemFree %6d kB, Cached %6d kB, Shmem %6d kB; used (total-available) %6d kB",
			c.name, c.m.total, c.m.avail, c.m.free, c.m.cached, c.m.shmem, c.m.total-c.m.avail)
	}
	if i.shmem < 8<<10 {
		t.Errorf("initramfs format: Shmem %d kB; want the whole system in RAM (> 8 MB)", i.shmem)
	}
	if d.shmem > 2<<10 {
		t.Errorf("disk format: Shmem %d kB; want the initramfs freed and the root on disk (< 2 MB)", d.shmem)
	}
	// The firmware reserves some memory of its own, so MemTotal differs:
	// what the system uses is compared.
	if saved := (i.total - i.avail) - (d.total - d.avail); saved < 4<<10 {
		t.Errorf("disk format uses %d kB less than the initramfs format; want at least 4 MB less", saved)
	}
}

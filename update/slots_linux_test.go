package update

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unit-os/unit/disk/disktest"
)

// slotDisk makes a disk image laid out as unit's disk format (ESP, data,
// slots a and b, named as the builder names them) with sgdisk, and the
// sysfs entries for its partitions.
func slotDisk(t *testing.T, f *disktest.Block, name string, secondSlot bool) (a, b string) {
	t.Helper()
	if _, err := exec.LookPath("sgdisk"); err != nil {
		t.Skip("sgdisk not installed (gdisk)")
	}
	a, b = "aaaaaaaa-0000-4000-8000-00000000000a", "bbbbbbbb-0000-4000-8000-00000000000b"
	p := filepath.Join(f.Dev, name)
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, 40<<20); err != nil {
		t.Fatal(err)
	}
	args := []string{"-n", "1:2048:+4M", "-t", "1:ef00", "-u", "1:" + disktest.ESPGUID,
		"-n", "2:0:+4M", "-t", "2:8300", "-c", "2:unit-data",
		"-n", "3:0:+8M", "-t", "3:8304", "-c", "3:unit-root-a", "-u", "3:" + a}
	if secondSlot {
		args = append(args, "-n", "4:0:+8M", "-t", "4:8304", "-c", "4:unit-root-b", "-u", "4:"+b)
	}
	if out, err := exec.Command("sgdisk", append(args, p)...).CombinedOutput(); err != nil {
		t.Fatalf("sgdisk: %v\n%s", err, out)
	}
	write := func(rel, text string) {
		path := filepath.Join(f.Sys, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(name+"/queue/logical_block_size", "512\n")
	for n := 1; n <= 4; n++ {
		part := name + string(rune('0'+n))
		write(name+"/"+part+"/partition", string(rune('0'+n))+"\n")
		write(name+"/"+part+"/size", "16384\n")
	}
	return a, b
}

// TestOpenSlots finds the running slot, the other one and the ESP on the
// disk the kernel command line's root is on, by GPT type and name.
func TestOpenSlots(t *testing.T) {
	f := disktest.NewBlock(t)
	f.Disk("sda", disktest.ESPGUID, disktest.RootGUID, map[string]string{"1": "sda1", "3": "sda3"})
	a, b := slotDisk(t, f, "vda", true)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := OpenSlots(log, f.Devices, "console=ttyS0 unit.root=PARTUUID="+b)
	if err != nil || s == nil {
		t.Fatalf("openSlots: %v, %v", s, err)
	}
	if s.Running() != "b" || s.esp != filepath.Join(f.Dev, "vda1") ||
		s.parts["a"] != (slotPart{Dev: filepath.Join(f.Dev, "vda3"), PARTUUID: a, Size: 8 << 20}) ||
		s.parts["b"].Dev != filepath.Join(f.Dev, "vda4") {
		t.Errorf("slots: running %s, esp %s, parts %+v", s.Running(), s.esp, s.parts)
	}
	// No unit.root: not a disk boot, no slots and no error.
	if s, err := OpenSlots(log, f.Devices, "console=ttyS0"); s != nil || err != nil {
		t.Errorf("initramfs boot: %v, %v", s, err)
	}
}

// TestOpenSlotsWithoutSecondSlot: a disk made before A/B slots (one root)
// is named as such, not guessed at.
func TestOpenSlotsWithoutSecondSlot(t *testing.T) {
	f := disktest.NewBlock(t)
	a, _ := slotDisk(t, f, "vda", false)
	_, err := OpenSlots(slog.New(slog.NewTextHandler(io.Discard, nil)), f.Devices, "unit.root=PARTUUID="+a)
	if err == nil || !strings.Contains(err.Error(), "no second slot") {
		t.Fatalf("err = %v", err)
	}
}

// TestWriteSlotRefusesNonBlock: the slot is written only when it is a
// block device, never through a symlink.
func TestWriteSlotRefusesNonBlock(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	p := Part{Name: RootPart, Size: 3, SHA256: strings.Repeat("0", 64)}
	for _, dev := range []string{file, link} {
		err := writeSlot(context.Background(), dev, p, strings.NewReader("abc"), func(string) {})
		if err == nil {
			t.Errorf("%s: written", dev)
		}
	}
	if b, _ := os.ReadFile(file); string(b) != "precious" {
		t.Errorf("the file now holds %q", b)
	}
}

// TestInstallRefusedOnTrial: while the running image is on trial, the
// other slot is the fallback and is not written.
func TestInstallRefusedOnTrial(t *testing.T) {
	s := &Slots{running: "b", parts: map[string]slotPart{"a": {Dev: "/nonexistent"}},
		entries: []Entry{{Gen: 1, Slot: "a"}, {Gen: 2, Slot: "b", Counted: true, Done: 1}}}
	_, err := s.Install(context.Background(), strings.NewReader("not read"), "", func(string) {})
	if err == nil || !strings.Contains(err.Error(), "is on trial, and slot a is what it falls back to") {
		t.Fatalf("err = %v", err)
	}
}

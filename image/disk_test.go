package image

import (
	"bytes"
	"context"
	"debug/pe"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/unit-os/unit/disk"
	"github.com/unit-os/unit/uki"
	"github.com/unit-os/unit/update"
)

func TestGPTRoundTrip(t *testing.T) {
	p, err := planDisk("host", 20*mib, 30*mib, 0, 64*mib, DefaultDataLabel)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "d.img")
	f, _ := os.Create(path)
	f.Truncate(int64(p.Sectors) * sectorSize)
	if err := disk.Write(f, p.Sectors, p.DiskGUID, p.Parts); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r, _ := os.Open(path)
	defer r.Close()
	got, err := disk.ReadTable(r)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, p.Parts) {
		t.Fatalf("read back %+v, wrote %+v", got, p.Parts)
	}
	if sgdisk, err := exec.LookPath("sgdisk"); err == nil {
		out, err := exec.Command(sgdisk, "-v", path).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "No problems found") {
			t.Errorf("sgdisk -v: %v\n%s", err, out)
		}
		out, _ = exec.Command(sgdisk, "-p", path).CombinedOutput()
		if !strings.Contains(string(out), "EF00") || !strings.Contains(string(out), "8300") || !strings.Contains(string(out), "8304") {
			t.Errorf("sgdisk -p (want the ESP, the data partition and an x86-64 root):\n%s", out)
		}
		// Slots a and b follow the data partition; a slot's unique GUID
		// is the PARTUUID its entry's command line names.
		for i, slot := range []string{"a", "b"} {
			out, _ = exec.Command(sgdisk, "-i", strconv.Itoa(3+i), path).CombinedOutput()
			if want := "Partition unique GUID: " + strings.ToUpper(slotPARTUUID("host", slot)); !strings.Contains(string(out), want) ||
				!strings.Contains(string(out), "unit-root-"+slot) {
				t.Errorf("sgdisk -i %d: want %q and the name unit-root-%s:\n%s", 3+i, want, slot, out)
			}
		}
	}
	a, ai := p.slot("a")
	b, bi := p.slot("b")
	if ai != 2 || bi != 3 || a.First <= p.Parts[1].Last || b.First <= a.Last || int64(a.Last-a.First+1)*sectorSize != rootMin || a.Last-a.First != b.Last-b.First {
		t.Errorf("slots %+v %+v: want two of %d bytes after the data partition", a, b, rootMin)
	}
	if _, err := planDisk("host", 20*mib, 30*mib, 20*mib, 0, ""); err == nil {
		t.Error("a slot smaller than the root was accepted")
	}
	if p, err := planDisk("host", 20*mib, 30*mib, 300*mib, 0, ""); err != nil || p.SlotSize != 300*mib {
		t.Errorf("slot_size 300M: %v, %+v", err, p)
	}
	if _, err := planDisk("host", 1*mib, 1*mib, 0, 4*mib, "x"); err == nil {
		t.Error("a 4M data partition was accepted")
	}
}

// TestDiskReproducibleAndReimage builds the disk format twice from the
// same inputs (bit-identical, the root file system included), checks what
// the small initramfs and the root hold and that the UKI's command line
// names the root partition, then re-images one over a disk whose data
// partition was written to: the data stays, the ESP and the root are
// rewritten, and the result is a fresh build's disk but for the data.
func TestDiskReproducibleAndReimage(t *testing.T) {
	tmp, system, initBin, log := diskBuildSetup(t, "[system]\nhostname = \"disk\"\ndata = { size = \"32M\" }\n")
	build := func(out string) *Result {
		t.Helper()
		res, err := Build(context.Background(), Options{System: system, Out: filepath.Join(tmp, out), Init: initBin, CacheDir: testCache(), Format: FormatDisk, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a := build("a")
	build("b")
	for _, name := range []string{DiskName, UKIName, ManifestName, InitramfsName, RootName} {
		x, _ := os.ReadFile(filepath.Join(tmp, "a", name))
		y, _ := os.ReadFile(filepath.Join(tmp, "b", name))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two builds (%d and %d bytes)", name, len(x), len(y))
		}
	}
	if a.Disk == nil || a.Disk.DataLabel != DefaultDataLabel || a.Disk.DataMount != "/var" || a.Disk.Stub.Version == "" {
		t.Fatalf("manifest disk: %+v", a.Disk)
	}
	disk := filepath.Join(tmp, "a", DiskName)
	out, err := exec.Command("sgdisk", "-p", disk).CombinedOutput()
	if err == nil && !strings.Contains(string(out), DefaultDataLabel) {
		t.Errorf("sgdisk -p:\n%s", out)
	}
	if out, err := exec.Command("sgdisk", "-v", disk).CombinedOutput(); err != nil || !strings.Contains(string(out), "No problems found") {
		t.Errorf("sgdisk -v: %v\n%s", err, out)
	}
	uuid := slotPARTUUID("disk", "a")
	if len(a.Disk.Slots) != 2 || a.Disk.Slots[0] != (DiskSlot{Name: "a", Partition: 3, PARTUUID: uuid}) ||
		a.Disk.Slots[1].Partition != 4 || a.Disk.RootSize == 0 || a.Disk.SlotSize < 2*a.Disk.RootSize {
		t.Errorf("manifest slots: %+v", a.Disk)
	}
	out, _ = exec.Command("sgdisk", "-i", "3", disk).CombinedOutput()
	if !strings.Contains(string(out), "Partition unique GUID: "+strings.ToUpper(uuid)) || !strings.Contains(string(out), "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709") {
		t.Errorf("sgdisk -i 3: want the root type and PARTUUID %s:\n%s", uuid, out)
	}

	// The UKI boots with a command line that names the root partition.
	uki, err := pe.Open(filepath.Join(tmp, "a", UKIName))
	if err != nil {
		t.Fatal(err)
	}
	cmdline, err := uki.Section(".cmdline").Data()
	uki.Close()
	if want := "unit.root=PARTUUID=" + uuid; err != nil || !strings.Contains(string(cmdline), want) || !strings.Contains(a.Cmdline, want) {
		t.Errorf("UKI .cmdline %q (manifest %q): want %s", cmdline, a.Cmdline, want)
	}

	// The partition holds root.squashfs, byte for byte.
	plan, _ := planDisk("disk", a.Disk.UKISize, a.Disk.RootSize, 0, a.Disk.DataSize, DefaultDataLabel)
	rootImg, _ := os.ReadFile(filepath.Join(tmp, "a", RootName))
	slotA, _ := plan.slot("a")
	slotB, _ := plan.slot("b")
	rootAt := int64(slotA.First) * sectorSize
	f, err := os.Open(disk)
	if err != nil {
		t.Fatal(err)
	}
	onDisk := make([]byte, len(rootImg))
	f.ReadAt(onDisk, rootAt)
	f.Close()
	if !bytes.Equal(onDisk, rootImg) {
		t.Error("the root partition does not hold root.squashfs")
	}

	// The initramfs holds unit, the skeleton and the root's modules; the
	// rest of the system is on the root.
	mods := "lib/modules/" + a.KernelVersion + "/"
	initrd := listInitramfs(t, filepath.Join(tmp, "a", InitramfsName))
	for _, want := range []string{"init", "dev/console", mods + "modules.dep", mods + "kernel/fs/squashfs/squashfs.ko",
		mods + "kernel/fs/overlayfs/overlay.ko", mods + "kernel/drivers/block/virtio_blk.ko", mods + "kernel/drivers/virtio/virtio_pci.ko"} {
		if !initrd[want] {
			t.Errorf("initramfs lacks %s", want)
		}
	}
	for name := range initrd {
		if name == "" || name == "init" || name == "dev/console" || name == "lib" || name == "lib/modules" || strings.HasPrefix(name, mods) {
			continue
		}
		if !slices.Contains([]string{"dev", "proc", "sys", "run", "tmp", "sysroot", "lib/modules/" + a.KernelVersion}, name) {
			t.Errorf("initramfs holds %s: only unit, mount points and modules belong there", name)
		}
	}
	if a.InitramfsSize > 4<<20 || a.PackagesSize != 0 {
		t.Errorf("initramfs %d bytes (packages %d): want only unit and modules", a.InitramfsSize, a.PackagesSize)
	}
	root := listSquashfs(t, filepath.Join(tmp, "a", RootName))
	for _, want := range []string{"init", "bin/unit", "bin/busybox", "bin/sh", "etc/unit/system.toml", "etc/passwd",
		mods + "modules.dep", mods + "kernel/fs/squashfs/squashfs.ko", mods + "kernel/drivers/virtio/virtio_pci.ko"} {
		if _, ok := root[want]; !ok {
			t.Errorf("root lacks %s", want)
		}
	}
	if l := root["dev/console"]; !strings.HasPrefix(l, "crw------- 0/0") {
		t.Errorf("root dev/console: %q", l)
	}

	// Something the machine wrote to its data partition.
	f, err = os.OpenFile(disk, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	mark := []byte("written by the machine")
	markAt := int64(plan.Parts[1].First)*sectorSize + 20*mib
	f.WriteAt(mark, markAt)
	// And garbage in the ESP and the root, which a re-image must replace.
	espAt := int64(plan.Parts[0].First) * sectorSize
	f.WriteAt(bytes.Repeat([]byte{0xEE}, 4096), espAt)
	f.WriteAt(bytes.Repeat([]byte{0xEE}, 4096), rootAt)
	f.WriteAt(bytes.Repeat([]byte{0xEE}, 4096), rootAt+a.Disk.SlotSize-8192)
	f.WriteAt(bytes.Repeat([]byte{0xEE}, 4096), int64(slotB.First)*sectorSize)
	f.Close()

	os.WriteFile(initBin, []byte("a newer unit\n"), 0o755)
	re := build("a")
	if !re.Disk.Reimaged {
		t.Fatal("the second build into the same directory was not a re-image")
	}
	f, _ = os.Open(disk)
	defer f.Close()
	got := make([]byte, len(mark))
	f.ReadAt(got, markAt)
	if !bytes.Equal(got, mark) {
		t.Error("re-image lost the data partition's contents")
	}
	esp := make([]byte, 4096)
	f.ReadAt(esp, espAt)
	if bytes.Equal(esp, bytes.Repeat([]byte{0xEE}, 4096)) {
		t.Error("re-image did not rewrite the ESP")
	}
	// The ESP: systemd-boot, its loader.conf, and slot a's first entry,
	// the UKI.
	mtools := func(args ...string) []byte {
		t.Helper()
		out, err := exec.Command(args[0], append([]string{"-i", disk + "@@" + strconv.FormatInt(espAt, 10)}, args[1:]...)...).CombinedOutput()
		if err != nil {
			t.Errorf("%s: %v\n%s", args, err, out)
		}
		return out
	}
	loader, _ := os.ReadFile(LoaderPath)
	if got := mtools("mtype", "::/EFI/BOOT/BOOTX64.EFI"); !bytes.Equal(got, loader) {
		t.Error("the ESP's BOOTX64.EFI is not systemd-boot")
	}
	if got := mtools("mtype", "::/loader/loader.conf"); string(got) != "timeout 0\neditor no\n" {
		t.Errorf("loader.conf: %q", got)
	}
	ukiImg, _ := os.ReadFile(filepath.Join(tmp, "a", UKIName))
	if got := mtools("mtype", "::/EFI/Linux/unit-1-a.efi"); !bytes.Equal(got, ukiImg) {
		t.Error("the ESP's entry unit-1-a.efi is not the UKI")
	}
	if in, err := update.ImageInfo(ukiImg); err != nil || in.Release != re.Release || in.Kernel != re.KernelVersion || re.Release == "" {
		t.Errorf("the UKI's os-release: %+v, %v; want release %q kernel %q", in, err, re.Release, re.KernelVersion)
	}
	// But for the data partition, the re-imaged disk is a fresh build's.
	fresh := build("c")
	if fresh.Disk.Reimaged {
		t.Fatal("a build into a new directory was a re-image")
	}
	x, _ := os.ReadFile(disk)
	y, _ := os.ReadFile(filepath.Join(tmp, "c", DiskName))
	dataFrom, dataTo := int64(plan.Parts[1].First)*sectorSize, int64(plan.Parts[1].Last+1)*sectorSize
	if len(x) != len(y) || !bytes.Equal(x[:dataFrom], y[:dataFrom]) || !bytes.Equal(x[dataTo:], y[dataTo:]) {
		t.Error("the re-imaged disk differs from a fresh build outside the data partition (ESP, root or table)")
	}
}

// listSquashfs lists a squashfs image with unsquashfs (not this package's
// code): path → its `ls -l`-like line (mode, owner, size, time).
func listSquashfs(t *testing.T, path string) map[string]string {
	t.Helper()
	cmd := exec.Command("unsquashfs", "-lln", "-d", "", path)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("unsquashfs -lln %s: %v", path, err)
	}
	names := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) < 5 {
			continue
		}
		name := "" // the root directory's line ends with the time
		if len(f) > 5 {
			name = f[len(f)-1]
		}
		if i := slices.Index(f, "->"); i > 0 {
			name = f[i-1]
		}
		names[strings.TrimPrefix(name, "/")] = l
	}
	return names
}

func TestQemuArgsDisk(t *testing.T) {
	got := strings.Join(QemuArgs("/img", RunOptions{Format: FormatDisk, Forward: []string{"8080:80"}, NIC: "e1000e", DiskBus: "ahci"}), " ")
	for _, want := range []string{
		"-machine q35", "if=pflash,format=raw,unit=0,readonly=on,file=" + OVMFCode, "snapshot=on,file=" + OVMFVars,
		"-drive if=none,id=disk0,format=raw,file=/img/disk.img -device ide-hd,drive=disk0,bus=ide.0",
		"-nic user,model=e1000e,hostfwd=tcp:127.0.0.1:8080-:80",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("argv lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "-kernel") {
		t.Errorf("disk boot with -kernel: %s", got)
	}
	for _, bad := range []string{"8080", "x:80", "0:80", "80:70000"} {
		if checkForward(bad) == nil {
			t.Errorf("forward %q accepted", bad)
		}
	}
}

// TestRunForwardTaken: a --forward whose host port something holds is
// one line naming the flag and the port, before qemu starts.
func TestRunForwardTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	dir := t.TempDir()
	for _, f := range []string{VmlinuzName, InitramfsName} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	err = Run(t.Context(), dir, RunOptions{Format: FormatInitramfs, Forward: []string{port + ":80"}, Stdin: strings.NewReader("")})
	if want := "--forward " + port + ":80: host port " + port + " is taken"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}

// diskBuildSetup skips without the disk tools, and writes the system and
// a stand-in init binary into a temp dir.
func diskBuildSetup(t *testing.T, systemTOML string) (tmp, system, initBin string, log *slog.Logger) {
	t.Helper()
	if testing.Short() {
		t.Skip("downloads a kernel with apt")
	}
	for _, tool := range []string{"apt-get", "dpkg-deb", "depmod", "mformat", "mkfs.ext4", "mksquashfs", "unsquashfs", "sgdisk", "zstd"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	if _, err := os.Stat(uki.StubPath); err != nil {
		t.Skip("systemd-boot-efi not installed")
	}
	tmp = t.TempDir()
	system = filepath.Join(tmp, "system.toml")
	os.WriteFile(system, []byte(systemTOML), 0o644)
	initBin = filepath.Join(tmp, "init")
	os.WriteFile(initBin, []byte("not really unit\n"), 0o755)
	return tmp, system, initBin, slog.New(slog.NewTextHandler(testWriter{t}, nil))
}

// TestUpdateBundle builds the update format: no disk, and a bundle whose
// parts read back, verified, as the build's UKI, root and manifest.
func TestUpdateBundle(t *testing.T) {
	tmp, system, initBin, log := diskBuildSetup(t, "[system]\nhostname = \"upd\"\n")
	out := filepath.Join(tmp, "u")
	res, err := Build(context.Background(), Options{System: system, Out: out, Init: initBin, CacheDir: testCache(), Format: FormatUpdate, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, DiskName)); err == nil {
		t.Error("the update format wrote a disk")
	}
	if res.Disk == nil || res.Disk.Bundle != update.BundleName || res.Disk.BundleSize <= res.Disk.RootSize {
		t.Fatalf("manifest: %+v", res.Disk)
	}
	f, err := os.Open(filepath.Join(out, update.BundleName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := update.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID() != res.Disk.BundleID || !strings.HasPrefix(r.ID(), "sha256:") {
		t.Errorf("bundle id %s, the build says %s", r.ID(), res.Disk.BundleID)
	}
	if m := r.Manifest(); m.Release != res.Release || m.Kernel != res.KernelVersion || m.Hostname != "upd" {
		t.Errorf("bundle manifest %+v", m)
	}
	for _, name := range []string{ManifestName, UKIName, RootName} {
		p, rd, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rd)
		want, _ := os.ReadFile(filepath.Join(out, name))
		if err != nil || p.Name != name || !bytes.Equal(got, want) {
			t.Errorf("part %s (%s): %v, %d bytes; want %d", p.Name, name, err, len(got), len(want))
		}
	}
	if _, _, err := r.Next(); err != io.EOF {
		t.Errorf("after the root: %v", err)
	}
}

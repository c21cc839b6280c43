package image

import (
	"bytes"
	"context"
	"debug/pe"
	"encoding/binary"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestUKISections(t *testing.T) {
	stub, err := os.ReadFile(StubPath)
	if err != nil {
		t.Skipf("no EFI stub: %v", err)
	}
	linux := bytes.Repeat([]byte{0xAB}, 5000)
	initrd := bytes.Repeat([]byte{0xCD}, 3000)
	uki, err := buildUKI(stub, []ukiSection{{".osrel", []byte("ID=unit\n")}, {".cmdline", []byte("console=ttyS0")}, {".linux", linux}, {".initrd", initrd}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := pe.NewFile(bytes.NewReader(uki))
	if err != nil {
		t.Fatalf("the UKI is not a PE file: %v", err)
	}
	orig, _ := pe.NewFile(bytes.NewReader(stub))
	var stubEnd uint32
	for _, s := range orig.Sections {
		stubEnd = max(stubEnd, s.VirtualAddress+s.VirtualSize)
	}
	want := map[string][]byte{".osrel": []byte("ID=unit\n"), ".cmdline": []byte("console=ttyS0"), ".linux": linux, ".initrd": initrd}
	prevEnd := stubEnd
	for _, s := range f.Sections[len(orig.Sections):] {
		data, err := s.Data()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data[:s.VirtualSize], want[s.Name]) {
			t.Errorf("section %s: data differs", s.Name)
		}
		if s.VirtualAddress%ukiSectionAlign != 0 || s.VirtualAddress < prevEnd {
			t.Errorf("section %s at %#x: want aligned, after %#x", s.Name, s.VirtualAddress, prevEnd)
		}
		prevEnd = s.VirtualAddress + s.VirtualSize
		delete(want, s.Name)
	}
	if len(want) != 0 {
		t.Errorf("missing sections %v", want)
	}
	if size := f.OptionalHeader.(*pe.OptionalHeader64).SizeOfImage; size < prevEnd {
		t.Errorf("SizeOfImage %#x < end of last section %#x", size, prevEnd)
	}
	// A second opinion from binutils, when it is installed.
	if objdump, err := exec.LookPath("objdump"); err == nil {
		p := filepath.Join(t.TempDir(), "uki.efi")
		if err := os.WriteFile(p, uki, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(objdump, "-h", p).CombinedOutput()
		if err != nil || !strings.Contains(string(out), ".initrd") {
			t.Errorf("objdump -h: %v\n%s", err, out)
		}
	}
}

func TestGPTRoundTrip(t *testing.T) {
	p, err := planDisk("host", 20*mib, 30*mib, 64*mib, DefaultDataLabel)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "d.img")
	f, _ := os.Create(path)
	f.Truncate(int64(p.Sectors) * sectorSize)
	if err := writeGPT(f, p.Sectors, p.DiskGUID, p.Parts); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r, _ := os.Open(path)
	defer r.Close()
	got, err := readGPT(r)
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
		// The root is the last partition and its unique GUID is the
		// PARTUUID the command line names.
		out, _ = exec.Command(sgdisk, "-i", "3", path).CombinedOutput()
		if want := "Partition unique GUID: " + strings.ToUpper(rootPARTUUID("host")); !strings.Contains(string(out), want) ||
			!strings.Contains(string(out), "unit-root") {
			t.Errorf("sgdisk -i 3: want %q and the name unit-root:\n%s", want, out)
		}
	}
	if r := p.root(); r.First <= p.Parts[1].Last || int64(r.Last-r.First+1)*sectorSize != rootMin {
		t.Errorf("root partition %+v: want it after the data partition, %d bytes", r, rootMin)
	}
	if _, err := planDisk("host", 1*mib, 1*mib, 4*mib, "x"); err == nil {
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
	uuid := rootPARTUUID("disk")
	if a.Disk.RootPARTUUID != uuid || a.Disk.RootPartition != 3 || a.Disk.RootSize == 0 || a.Disk.RootPartSize < 2*a.Disk.RootSize {
		t.Errorf("manifest root: %+v", a.Disk)
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
	plan, _ := planDisk("disk", a.Disk.UKISize, a.Disk.RootSize, a.Disk.DataSize, DefaultDataLabel)
	rootImg, _ := os.ReadFile(filepath.Join(tmp, "a", RootName))
	rootAt := int64(plan.root().First) * sectorSize
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
	f.WriteAt(bytes.Repeat([]byte{0xEE}, 4096), rootAt+a.Disk.RootPartSize-8192)
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
	if out, err := exec.Command("mdir", "-i", disk+"@@"+strconv.FormatInt(espAt, 10), "::/EFI/BOOT").CombinedOutput(); err != nil || !strings.Contains(string(out), "BOOTX64") {
		t.Errorf("mdir: %v\n%s", err, out)
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

func TestParsePERejects(t *testing.T) {
	stub, err := os.ReadFile(StubPath)
	if err != nil {
		t.Skipf("%s: %v", StubPath, err)
	}
	if _, err := parsePE(stub); err != nil {
		t.Fatalf("the real stub: %v", err)
	}
	bad := func(edit func(b []byte) []byte) []byte { return edit(append([]byte(nil), stub...)) }
	lfanew := int(binary.LittleEndian.Uint32(stub[0x3c:]))
	for name, b := range map[string][]byte{
		"empty":     nil,
		"no MZ":     bad(func(b []byte) []byte { b[0] = 'X'; return b }),
		"no PE":     bad(func(b []byte) []byte { b[lfanew] = 'X'; return b }),
		"PE32":      bad(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[lfanew+24:], 0x10b); return b }),
		"truncated": stub[:lfanew+100],
	} {
		if _, err := parsePE(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
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
	if _, err := os.Stat(StubPath); err != nil {
		t.Skip("systemd-boot-efi not installed")
	}
	tmp = t.TempDir()
	system = filepath.Join(tmp, "system.toml")
	os.WriteFile(system, []byte(systemTOML), 0o644)
	initBin = filepath.Join(tmp, "init")
	os.WriteFile(initBin, []byte("not really unit\n"), 0o755)
	return tmp, system, initBin, slog.New(slog.NewTextHandler(testWriter{t}, nil))
}

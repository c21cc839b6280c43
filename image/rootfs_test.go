package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRootfsReproducible makes the same root twice (once through the
// cache, once without) and reads it back with unsquashfs: the same bytes,
// every file owned by root with the build's time, modes and the device
// node as given.
func TestRootfsReproducible(t *testing.T) {
	for _, tool := range []string{"mksquashfs", "unsquashfs"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (squashfs-tools)", tool)
		}
	}
	// mksquashfs refuses SOURCE_DATE_EPOCH beside explicit times: the
	// maker must not pass it on.
	t.Setenv("SOURCE_DATE_EPOCH", "1")
	ctx := context.Background()
	es := append(sampleEntries(), entry{Name: "lib/modules/6.1.0-56-cloud-amd64/kernel/drivers/a-long-path/" + strings.Repeat("x", 120) + ".ko", Mode: 0o644, Data: bytes.Repeat([]byte("module "), 50000)})
	cache := t.TempDir()
	m := rootfsMaker{cache: cache, version: "test", comp: compressionOf(false, "")}
	const mtime = 1700000000
	first := readPart(t, must(m.build(ctx, es, mtime)))
	slices.Reverse(es) // the order given does not matter
	second := readPart(t, must(rootfsMaker{cache: t.TempDir(), comp: m.comp}.build(ctx, es, mtime)))
	if !bytes.Equal(first, second) {
		t.Fatal("two builds of the same root differ")
	}
	if again := readPart(t, must(m.build(ctx, es, mtime))); !bytes.Equal(again, first) {
		t.Fatal("the cached root differs")
	}
	if files, _ := filepath.Glob(filepath.Join(cache, "squashfs", "*.sqfs")); len(files) != 1 {
		t.Fatalf("cache holds %v, want one image", files)
	}
	if other := readPart(t, must(m.build(ctx, es, mtime+1))); bytes.Equal(other, first) {
		t.Error("another time stamp gave the same image")
	}
	// The release level: reproducible too, and other bytes.
	rel := rootfsMaker{comp: compressionOf(true, "")}
	rel.cache = t.TempDir()
	r1 := readPart(t, must(rel.build(ctx, es, mtime)))
	rel.cache = t.TempDir()
	if r2 := readPart(t, must(rel.build(ctx, es, mtime))); !bytes.Equal(r1, r2) || bytes.Equal(r1, first) {
		t.Error("release level: two builds differ, or equal the fast level's")
	}
	p := filepath.Join(t.TempDir(), "root.squashfs")
	if err := os.WriteFile(p, first, 0o644); err != nil {
		t.Fatal(err)
	}
	list := listSquashfs(t, p)
	for name, want := range map[string]string{
		"init":                 "-rwxr-xr-x 0/0",
		"bin/unit":             "lrwxrwxrwx 0/0",
		"dev/console":          "crw------- 0/0",
		"tmp":                  "drwxrwxrwt 0/0",
		"etc/a":                "-rw-r----- 0/0",
		"etc/unit/system.toml": "-rw-r--r-- 0/0",
		"etc/unit":             "drwxr-xr-x 0/0",
		"":                     "drwxr-xr-x 0/0",
	} {
		if l := list[name]; !strings.HasPrefix(l, want) || !strings.Contains(l, "2023-11-14 22:13") {
			t.Errorf("/%s: %q, want %q at the build's time", name, l, want)
		}
	}
	if l := list["bin/unit"]; !strings.HasSuffix(l, "-> /init") {
		t.Errorf("bin/unit: %q", l)
	}
	out, err := exec.Command("unsquashfs", "-cat", p, "etc/a").Output()
	if err != nil || string(out) != "12345" {
		t.Errorf("unsquashfs -cat etc/a: %q, %v", out, err)
	}
	if _, err := (rootfsMaker{cache: t.TempDir()}).build(ctx, append(es, entry{Name: "init", Mode: 0o644}), mtime); err == nil {
		t.Error("a path given twice was accepted")
	}
}

// TestWriteTar reads the stream back with archive/tar: parents first,
// added directories, owners, device numbers.
func TestWriteTar(t *testing.T) {
	var b bytes.Buffer
	if err := writeTar(&b, sampleEntries(), 42); err != nil {
		t.Fatal(err)
	}
	r := tar.NewReader(&b)
	var names []string
	for {
		h, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Uid != 0 || h.Gid != 0 || h.ModTime.Unix() != 42 {
			t.Errorf("%s: uid %d gid %d mtime %v", h.Name, h.Uid, h.Gid, h.ModTime)
		}
		if h.Name == "dev/console" && (h.Typeflag != tar.TypeChar || h.Devmajor != 5 || h.Devminor != 1) {
			t.Errorf("dev/console: %+v", h)
		}
		if h.Name == "tmp/" && h.Mode != 0o1777 {
			t.Errorf("tmp: mode %o", h.Mode)
		}
	}
	want := []string{"bin/", "bin/unit", "dev/", "dev/console", "etc/", "etc/a", "etc/unit/", "etc/unit/system.toml", "init", "tmp/"}
	if !slices.Equal(names, want) {
		t.Errorf("tar holds %v, want %v", names, want)
	}
}

func TestRootPartSize(t *testing.T) {
	for _, c := range []struct{ image, want int64 }{
		{1, 128 * mib}, {6 * mib, 128 * mib}, {64 * mib, 128 * mib}, {64*mib + 1, 192 * mib}, {100 * mib, 256 * mib},
	} {
		if got := rootPartSize(c.image); got != c.want {
			t.Errorf("rootPartSize(%d) = %d, want %d", c.image, got, c.want)
		}
	}
}

// TestReimageable: the root slots (last) may change size in place;
// anything else that moves makes a new disk.
func TestReimageable(t *testing.T) {
	small, _ := planDisk("h", 20*mib, 10*mib, 0, 64*mib, DefaultDataLabel)
	big, _ := planDisk("h", 20*mib, 100*mib, 0, 64*mib, DefaultDataLabel)
	moreData, _ := planDisk("h", 20*mib, 10*mib, 0, 128*mib, DefaultDataLabel)
	other, _ := planDisk("other", 20*mib, 10*mib, 0, 64*mib, DefaultDataLabel)
	noData, _ := planDisk("h", 20*mib, 10*mib, 0, 0, "")
	if !reimageable(small.Parts, small.Parts) || !reimageable(small.Parts, big.Parts) || !reimageable(big.Parts, small.Parts) {
		t.Error("a root of another size was not re-imageable")
	}
	for name, p := range map[string]*diskPlan{"data size": moreData, "hostname": other, "no data": noData} {
		if reimageable(small.Parts, p.Parts) {
			t.Errorf("%s changed, yet re-imageable", name)
		}
	}
}

// TestWriteDiskRefusesLink: disk.img that is a symlink (or anything but a
// file) is not written through.
func TestWriteDiskRefusesLink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere")
	if err := os.WriteFile(target, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	disk := filepath.Join(dir, DiskName)
	if err := os.Symlink(target, disk); err != nil {
		t.Fatal(err)
	}
	p, _ := planDisk("h", 1*mib, 1*mib, 0, 0, "")
	part := filepath.Join(dir, "part")
	os.WriteFile(part, []byte("x"), 0o644)
	if _, err := writeDisk(disk, p, part, part, ""); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("err = %v, want a refusal", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "precious" {
		t.Error("the link's target was written")
	}
}

// TestQemuArgsDiskKernel: the kernel and initramfs of a disk image boot
// with the build's command line (it names the root) and the disk attached.
func TestQemuArgsDiskKernel(t *testing.T) {
	dir := t.TempDir()
	m, _ := json.Marshal(map[string]string{"format": FormatDisk, "cmdline": "console=ttyS0 unit.root=PARTUUID=x"})
	os.WriteFile(filepath.Join(dir, ManifestName), m, 0o644)
	os.WriteFile(filepath.Join(dir, DiskName), nil, 0o644)
	got := strings.Join(QemuArgs(dir, RunOptions{Format: FormatInitramfs, Append: "unit.rootwait=3"}), " ")
	for _, want := range []string{"-append console=ttyS0 unit.root=PARTUUID=x unit.rootwait=3", "-drive if=virtio,format=raw,file=" + filepath.Join(dir, DiskName), "-kernel "} {
		if !strings.Contains(got, want) {
			t.Errorf("argv lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "pflash") {
		t.Errorf("kernel boot with firmware: %s", got)
	}
}

// TestRootModules: the disk format's initramfs gets squashfs, overlay and
// the profile's disk drivers the kernel has; a kernel without squashfs
// cannot have a disk root.
func TestRootModules(t *testing.T) {
	dir := t.TempDir()
	dep := "kernel/fs/squashfs/squashfs.ko:\nkernel/fs/overlayfs/overlay.ko:\n" +
		"kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko\nkernel/drivers/virtio/virtio.ko:\n"
	os.WriteFile(filepath.Join(dir, "modules.dep"), []byte(dep), 0o644)
	os.WriteFile(filepath.Join(dir, "modules.builtin"), []byte("kernel/drivers/nvme/host/nvme.ko\n"), 0o644)
	p := &profile{RootDrivers: vmRootDrivers}
	got, err := p.rootModules(dir)
	if want := []string{"squashfs", "overlay", "virtio_blk", "nvme"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("rootModules = %v, %v; want %v (what the kernel has, built-in included)", got, err, want)
	}
	os.WriteFile(filepath.Join(dir, "modules.dep"), []byte("kernel/fs/overlayfs/overlay.ko:\n"), 0o644)
	if _, err := p.rootModules(dir); err == nil || !strings.Contains(err.Error(), "no squashfs") {
		t.Errorf("a kernel without squashfs: err = %v", err)
	}
}

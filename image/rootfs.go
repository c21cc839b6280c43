package image

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/unit-os/unit/disk"
)

// RootName is the root file system image of the disk format, in the build
// directory beside disk.img (the bytes of its root partition, for `dd` or
// a later A/B update).
const RootName = "root.squashfs"

// mksquashfsArgs make the root file system from a tar stream on stdin:
// zstd at the build's level (compression.squashfsArgs; the cloud and
// generic kernels read zstd squashfs), every file owned by root, no
// xattrs, the root directory 0755. Timestamps are added per build
// (-mkfs-time, -all-time); mksquashfs refuses them together with
// SOURCE_DATE_EPOCH, which is therefore not passed on. mksquashfs
// compresses on all processors and is reproducible for any number.
var mksquashfsArgs = []string{"-tar", "-noappend", "-quiet", "-no-progress", "-all-root", "-no-xattrs", "-root-mode", "755"}

// squashfsCacheKeep is how many root images the cache keeps (each is the
// size of a whole root, a few to tens of MB).
const squashfsCacheKeep = 8

// rootfsMaker writes root file system images, keeping each in
// cache/squashfs under the hash of its inputs (partKey): a rebuild mostly
// makes the same image again, and finds it without writing the tar.
type rootfsMaker struct {
	cache   string // the cache directory
	version string // squashfs-tools' package version
	comp    compression
}

// build returns the squashfs image of entries, every time stamp mtime.
func (m rootfsMaker) build(ctx context.Context, entries []entry, mtime int64) (part, error) {
	args := append(append(append([]string(nil), mksquashfsArgs...), m.comp.squashfsArgs()...),
		"-mkfs-time", strconv.FormatInt(mtime, 10), "-all-time", strconv.FormatInt(mtime, 10))
	key, err := partKey("squashfs tar", "mksquashfs "+m.version, args, mtime, entries)
	if err != nil {
		return part{}, fmt.Errorf("root file system: %w", err)
	}
	mm := memo{dir: filepath.Join(m.cache, "squashfs"), ext: ".sqfs", keep: squashfsCacheKeep}
	if pt, ok := mm.lookup(key); ok {
		return pt, nil
	}
	return mm.store(key, func(out string) error {
		// The tar streams into mksquashfs: never whole in memory.
		cmd := exec.CommandContext(ctx, "mksquashfs", append([]string{"-", out}, args...)...)
		cmd.Env = squashfsEnv(os.Environ())
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = io.Discard, &stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("mksquashfs: %w (install squashfs-tools)", err)
		}
		werr := writeTar(stdin, entries, mtime)
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("mksquashfs: %w: %s (install squashfs-tools)", err, strings.TrimSpace(stderr.String()))
		}
		if werr != nil {
			return fmt.Errorf("root file system: %w", werr)
		}
		return nil
	})
}

// squashfsEnv is env without SOURCE_DATE_EPOCH (mksquashfs will not take
// it with explicit times) and in the C locale.
func squashfsEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "SOURCE_DATE_EPOCH=") && !strings.HasPrefix(kv, "LC_ALL=") {
			out = append(out, kv)
		}
	}
	return append(out, "LC_ALL=C")
}

// writeTar writes entries as a tar stream in the order of newTree (sorted,
// parents first, missing directories added), every file owned by root with
// time stamp mtime: the same tree the initramfs format would hold.
func writeTar(w io.Writer, entries []entry, mtime int64) error {
	t, err := newTree(entries)
	if err != nil {
		return fmt.Errorf("tar: %w", err)
	}
	tw := tar.NewWriter(w)
	at := time.Unix(mtime, 0)
	for _, e := range t.Entries {
		h := &tar.Header{Name: e.Name, Mode: int64(e.Mode.Perm()), ModTime: at, Format: tar.FormatPAX}
		if e.Mode&fs.ModeSticky != 0 {
			h.Mode |= 0o1000
		}
		switch {
		case e.Mode.IsDir():
			h.Typeflag, h.Name = tar.TypeDir, e.Name+"/"
		case e.Mode&fs.ModeSymlink != 0:
			h.Typeflag, h.Linkname = tar.TypeSymlink, string(e.Data)
		case e.Mode&fs.ModeCharDevice != 0:
			h.Typeflag, h.Devmajor, h.Devminor = tar.TypeChar, int64(e.Major), int64(e.Minor)
		case e.Mode.IsRegular():
			h.Typeflag, h.Size = tar.TypeReg, e.size()
		default:
			return fmt.Errorf("tar: %s: unsupported file type %v", e.Name, e.Mode)
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("tar: %s: %w", e.Name, err)
		}
		if h.Typeflag == tar.TypeReg {
			if err := e.copyTo(tw); err != nil {
				return fmt.Errorf("tar: %s: %w", e.Name, err)
			}
		}
	}
	return tw.Close()
}

// stage1Entries is the whole base of the disk format's initramfs: unit as
// /init, the console, and the mount points it uses before the root is
// there. No busybox, no config, no packages: those are on the root.
func stage1Entries(unitBin []byte) []entry {
	es := []entry{
		{Name: "init", Mode: 0o755, Data: unitBin},
		{Name: "dev/console", Mode: fs.ModeDevice | fs.ModeCharDevice | 0o600, Major: 5, Minor: 1},
		{Name: "tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777},
	}
	for _, d := range []string{"proc", "sys", "dev", "run", "sysroot"} {
		es = append(es, entry{Name: d, Mode: fs.ModeDir | 0o755})
	}
	return es
}

// rootModules are the modules the disk format's initramfs carries: the
// profile's disk drivers that the kernel in dir has as modules or built in
// (built-in ones need no file), and squashfs and overlay, which it must
// have (disk.RootFilesystems). Their dependencies follow from modules.dep when they are selected.
func (p *profile) rootModules(dir string) ([]string, error) {
	builtin, _ := os.ReadFile(filepath.Join(dir, "modules.builtin"))
	dep, _ := os.ReadFile(filepath.Join(dir, "modules.dep"))
	var out, missing []string
	for _, m := range disk.RootFilesystems {
		if !kernelHas(dep, builtin, m) {
			missing = append(missing, m)
		}
		out = append(out, m)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the kernel has no %s, which the disk format's root needs", strings.Join(missing, " or "))
	}
	for _, m := range p.RootDrivers {
		if kernelHas(dep, builtin, m) {
			out = append(out, m)
		}
	}
	return out, nil
}

// slotPARTUUID is the unique GUID of a root slot's partition: derived
// from the seed like every other id of the disk, and named on the kernel
// command line, so the root is found whatever the disk is called (vda,
// sda, nvme0n1). Slot a keeps the id a single root had.
func slotPARTUUID(seed, slot string) string {
	if slot == "a" {
		return stableUUID(seed + " root")
	}
	return stableUUID(seed + " root " + slot)
}

// rootCmdline is the command line argument that names slot a's root, the
// one a new disk boots.
func rootCmdline(seed string) string { return disk.RootParam + "=PARTUUID=" + slotPARTUUID(seed, "a") }

// rootPartSize is the root partition for an image of size bytes: at least
// 128 MiB, and twice the image, in steps of 64 MiB, so that a root that
// grows a little still fits and a re-image keeps the layout.
func rootPartSize(size int64) int64 {
	s := int64(rootMin)
	for s < 2*size {
		s += 64 * mib
	}
	return s
}

// rootMin is the smallest root partition.
const rootMin = 128 * mib

package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/disk"
	"github.com/unit-os/unit/safepath"
	"github.com/unit-os/unit/update"
)

// Disk image names and defaults.
const (
	DiskName = "disk.img"
	UKIName  = "unit.efi"
	// LoaderPath is systemd-boot, from the same package as the stub.
	LoaderPath       = "/usr/lib/systemd/boot/efi/systemd-bootx64.efi"
	DefaultDataLabel = "unit-data"
	DefaultDataMount = "/var"
	espLabel         = "ESP"
	// espMin is the smallest ESP: FAT32 needs 65525 clusters, and room
	// for a later, larger image keeps re-images from changing the layout.
	espMin = 64 * mib
	mib    = 1 << 20
	// sectorSize is the disk format's sector.
	sectorSize = disk.SectorSize
)

// diskPlan is the layout of a disk image: an ESP, optionally a data
// partition, and two root slots of one size (A/B updates: one runs, the
// other takes the next image), each starting on a MiB boundary. The slots
// come last so that they can grow on a re-image without moving the data
// partition.
type diskPlan struct {
	Sectors   uint64
	DiskGUID  [16]byte
	Parts     []disk.Partition
	ESPSize   int64
	DataSize  int64 // 0: no data partition
	DataLabel string
	DataUUID  string
	SlotSize  int64             // each root slot's partition
	SlotUUID  map[string]string // slot name to PARTUUID
	VolumeID  uint32            // FAT volume serial
}

// planDisk lays out a disk for a UKI of ukiSize bytes and a root image of
// rootSize bytes in slots of at least slotSize (0: what rootPartSize
// gives). seed (the system's hostname) makes every id fixed: the same
// system gets the same GUIDs.
func planDisk(seed string, ukiSize, rootSize, slotSize, dataSize int64, dataLabel string) (*diskPlan, error) {
	p := &diskPlan{ESPSize: espMin, DataSize: alignUp64(dataSize, mib), DataLabel: dataLabel, SlotSize: rootPartSize(rootSize)}
	if slotSize > 0 {
		if slotSize < rootSize {
			return nil, fmt.Errorf("slot_size %d is smaller than the root file system (%d bytes)", slotSize, rootSize)
		}
		p.SlotSize = alignUp64(slotSize, mib)
	}
	// The loader, both slots' entries and a new one being written.
	for p.ESPSize < 3*ukiSize+8*mib {
		p.ESPSize += espMin
	}
	if dataSize > 0 && dataSize < 8*mib {
		return nil, fmt.Errorf("data partition of %d bytes is too small (at least 8M)", dataSize)
	}
	var err error
	if p.DiskGUID, err = disk.ParseGUID(stableUUID(seed + " disk")); err != nil {
		return nil, err
	}
	espGUID, _ := disk.ParseGUID(stableUUID(seed + " esp"))
	vid := disk.MustGUID(stableUUID(seed + " fat"))
	p.VolumeID = uint32(vid[0])<<24 | uint32(vid[1])<<16 | uint32(vid[2])<<8 | uint32(vid[3])
	first := uint64(mib / sectorSize)
	espLast := first + uint64(p.ESPSize/sectorSize) - 1
	p.Parts = append(p.Parts, disk.Partition{Name: disk.ESPName, Type: disk.MustGUID(disk.TypeESP), GUID: espGUID, First: first, Last: espLast})
	end := espLast + 1
	if p.DataSize > 0 {
		p.DataUUID = stableUUID(seed + " data " + dataLabel)
		dataGUID, _ := disk.ParseGUID(stableUUID(seed + " data partition " + dataLabel))
		dfirst := alignUp64u(end, mib/sectorSize)
		dlast := dfirst + uint64(p.DataSize/sectorSize) - 1
		p.Parts = append(p.Parts, disk.Partition{Name: dataLabel, Type: disk.MustGUID(disk.TypeLinuxData), GUID: dataGUID, First: dfirst, Last: dlast})
		end = dlast + 1
	}
	p.SlotUUID = map[string]string{}
	for _, slot := range disk.Slots {
		p.SlotUUID[slot] = slotPARTUUID(seed, slot)
		rfirst := alignUp64u(end, mib/sectorSize)
		rlast := rfirst + uint64(p.SlotSize/sectorSize) - 1
		p.Parts = append(p.Parts, disk.Partition{Name: disk.PartitionName(slot), Type: disk.MustGUID(disk.TypeRootX86_64), GUID: disk.MustGUID(p.SlotUUID[slot]), First: rfirst, Last: rlast})
		end = rlast + 1
	}
	// One MiB at the end holds the backup table.
	p.Sectors = alignUp64u(end, mib/sectorSize) + mib/sectorSize
	return p, nil
}

// slot is the partition of a root slot ("a" or "b"); its number in the
// GPT is the index plus one.
func (p *diskPlan) slot(name string) (disk.Partition, int) {
	for i, part := range p.Parts {
		if part.Name == disk.PartitionName(name) {
			return part, i
		}
	}
	panic("no slot " + name)
}

func alignUp64(v, a int64) int64    { return (v + a - 1) / a * a }
func alignUp64u(v, a uint64) uint64 { return (v + a - 1) / a * a }

// makeESP writes a FAT32 file system image holding systemd-boot as the
// removable-media boot path \EFI\BOOT\BOOTX64.EFI (UEFI firmware boots
// it without any boot entry in NVRAM), its loader.conf, and the UKI as
// slot a's first entry. mtools writes it without root or loop devices;
// SOURCE_DATE_EPOCH fixes its timestamps and -N its serial.
func makeESP(ctx context.Context, tmp string, p *diskPlan, loader, uki []byte, mtime int64) (string, error) {
	files := []struct {
		path string
		data []byte
	}{
		{update.LoaderPath, loader},
		{update.LoaderConf, []byte(update.LoaderConfText)},
		{update.EntryDir + "/" + update.Entry{Gen: 1, Slot: "a"}.Name(), uki},
	}
	t := fatTime(mtime)
	esp := filepath.Join(tmp, "esp.img")
	env := []string{"SOURCE_DATE_EPOCH=" + strconv.FormatInt(t.Unix(), 10), "MTOOLSRC=/dev/null", "MTOOLS_SKIP_CHECK=1"}
	steps := [][]string{
		{"mformat", "-C", "-i", esp, "-T", strconv.FormatInt(p.ESPSize/sectorSize, 10), "-h", "64", "-s", "32",
			"-H", strconv.FormatUint(p.Parts[0].First, 10), "-F", "-N", fmt.Sprintf("%08x", p.VolumeID), "-v", espLabel, "::"},
		{"mmd", "-i", esp, "::/EFI", "::/EFI/BOOT", "::/EFI/Linux", "::/loader"},
	}
	for i, f := range files {
		src := filepath.Join(tmp, fmt.Sprintf("esp-file-%d", i))
		if err := os.WriteFile(src, f.data, 0o644); err != nil {
			return "", err
		}
		if err := os.Chtimes(src, t, t); err != nil {
			return "", err
		}
		steps = append(steps, []string{"mcopy", "-m", "-i", esp, src, "::/" + f.path})
	}
	for _, s := range steps {
		if _, err := runEnv(ctx, env, s[0], s[1:]...); err != nil {
			return "", fmt.Errorf("esp: %w (is mtools installed?)", err)
		}
	}
	return esp, nil
}

// makeData writes an empty ext4 file system labelled p.DataLabel. Its
// UUID and directory hash seed are derived from the system and its times
// come from E2FSPROGS_FAKE_TIME, so the bytes are the same every build.
func makeData(ctx context.Context, tmp string, p *diskPlan, mtime int64) (string, error) {
	path := filepath.Join(tmp, "data.img")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if err := f.Truncate(p.DataSize); err != nil {
		f.Close()
		return "", err
	}
	f.Close()
	// mke2fs takes 0 as "no fake time"; 1970-01-01T00:00:01 it is then.
	fake := max(mtime, 1)
	env := []string{"E2FSPROGS_FAKE_TIME=" + strconv.FormatInt(fake, 10), "MKE2FS_DEVICE_SECTSIZE=512"}
	_, err = runEnv(ctx, env, "mkfs.ext4", "-q", "-F", "-L", p.DataLabel, "-U", p.DataUUID,
		"-E", "hash_seed="+p.DataUUID+",root_owner=0:0,nodiscard", path)
	if err != nil {
		return "", fmt.Errorf("data partition: %w (is e2fsprogs installed?)", err)
	}
	return path, nil
}

// writeDisk assembles the disk at path from the partition images esp,
// root and data (files; data may be ""). When path already holds a disk
// with the same layout (the root partition may have grown or shrunk: it is
// last), the ESP and the root partition are rewritten and the data
// partition, with whatever the machine stored there, is kept. It reports
// whether it did that.
func writeDisk(path string, p *diskPlan, esp, root, data string) (reimaged bool, err error) {
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return false, fmt.Errorf("%s is not a regular file (%v); refusing to write through it", path, fi.Mode().Type())
	}
	if old, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0); err == nil {
		parts, rerr := disk.ReadTable(old)
		old.Close()
		if rerr == nil && reimageable(parts, p.Parts) {
			return true, reimage(path, p, esp, root)
		}
		if rerr == nil && hasData(parts) {
			return false, fmt.Errorf("%s has a data partition and a different layout; move it away to make a new disk (its data is not copied)", path)
		}
	}
	safepath.Sweep(filepath.Dir(path), safepath.Trusted()) // an interrupted build's temp disk
	return false, safepath.WriteFileFunc(path, 0o644, -1, -1, func(f *os.File) error {
		if err := f.Truncate(int64(p.Sectors) * sectorSize); err != nil {
			return err
		}
		if err := disk.Write(f, p.Sectors, p.DiskGUID, p.Parts); err != nil {
			return err
		}
		slotA, _ := p.slot("a")
		images := []struct {
			path string
			at   uint64
		}{{esp, p.Parts[0].First}, {root, slotA.First}}
		if data != "" {
			images = append(images, struct {
				path string
				at   uint64
			}{data, p.Parts[1].First})
		}
		for _, img := range images {
			if err := copyAt(f, img.path, int64(img.at)*sectorSize, true); err != nil {
				return err
			}
		}
		return nil
	}, safepath.Trusted(), safepath.AsCreated())
}

// reimage rewrites the table (the slots may have moved or grown), the
// ESP and slot a of the disk at path in place, and empties the rest of
// both slots, so the disk holds the same bytes as a new one but for the
// data partition.
func reimage(path string, p *diskPlan, esp, root string) error {
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(int64(p.Sectors) * sectorSize); err != nil {
		return err
	}
	if err := disk.Write(f, p.Sectors, p.DiskGUID, p.Parts); err != nil {
		return err
	}
	if err := copyAt(f, esp, int64(p.Parts[0].First)*sectorSize, false); err != nil {
		return err
	}
	a, _ := p.slot("a")
	b, _ := p.slot("b")
	if err := copyAt(f, root, int64(a.First)*sectorSize, false); err != nil {
		return err
	}
	fi, err := os.Stat(root)
	if err != nil {
		return err
	}
	start := int64(a.First)*sectorSize + fi.Size()
	if err := zeroRange(f, start, int64(b.Last+1)*sectorSize-start); err != nil {
		return fmt.Errorf("empty the rest of the root slots: %w", err)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// reimageable says whether a disk with the partitions old can take the
// layout new in place: the same partitions in the same places up to the
// root slots, which may move or grow (both are rewritten).
func reimageable(old, new []disk.Partition) bool {
	fixed := func(ps []disk.Partition) []disk.Partition {
		for i, p := range ps {
			if p.Type == disk.MustGUID(disk.TypeRootX86_64) {
				return ps[:i]
			}
		}
		return ps
	}
	o, n := fixed(old), fixed(new)
	return len(n) > 0 && len(o) == len(n) && len(old) == len(new) && slices.Equal(o, n)
}

// hasData says whether a disk has a data partition, whose contents a new
// disk would lose.
func hasData(parts []disk.Partition) bool {
	for _, p := range parts {
		if p.Type == disk.MustGUID(disk.TypeLinuxData) {
			return true
		}
	}
	return false
}

// zeroRange makes n bytes of f at off read as zeros: a hole where the
// file system can punch one, written zeros where it cannot.
func zeroRange(f *os.File, off, n int64) error {
	if n <= 0 {
		return nil
	}
	err := unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n)
	if err == nil {
		return nil
	}
	zero := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, int64(len(zero)))
		if _, err := f.WriteAt(zero[:k], off); err != nil {
			return err
		}
		off += k
		n -= k
	}
	return nil
}

// copyAt copies the file src into w at off. Blocks of zeros are not
// written: a fresh, truncated w (sparse) reads zeros there already, and
// over old contents they are punched out (zeroRange), so an empty data
// partition or the free space of the ESP costs no space on the build
// machine either way.
func copyAt(w *os.File, src string, off int64, sparse bool) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 1<<16)
	zero := make([]byte, len(buf))
	for pos := int64(0); ; {
		n, err := io.ReadFull(f, buf)
		switch {
		case n == 0:
		case !bytes.Equal(buf[:n], zero[:n]):
			if _, werr := w.WriteAt(buf[:n], off+pos); werr != nil {
				return fmt.Errorf("write disk: %w", werr)
			}
		case !sparse:
			if zerr := zeroRange(w, off+pos, int64(n)); zerr != nil {
				return fmt.Errorf("write disk: %w", zerr)
			}
		}
		pos += int64(n)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", src, err)
		}
	}
}

// runEnv is run with extra environment variables.
func runEnv(ctx context.Context, env []string, name string, args ...string) ([]byte, error) {
	return runWith(ctx, "", env, name, args...)
}

// toolVersion is the installed version of a Debian package, for the manifest.
func toolVersion(ctx context.Context, pkg string) string {
	out, err := run(ctx, "", "dpkg-query", "-W", "-f", "${Version}", pkg)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// fatEpoch is the earliest time FAT can store (1980-01-01 UTC).
const fatEpoch = 315532800

// fatTime is the timestamp files on the ESP get: mtime, or FAT's epoch
// when mtime is earlier than FAT can say.
func fatTime(mtime int64) time.Time { return time.Unix(max(mtime, fatEpoch), 0) }

// stableUUID derives a version-4-shaped UUID from seed, so that disk,
// partition and filesystem ids are fixed for a given system and never
// random: two builds of the same system give the same bytes.
func stableUUID(seed string) string {
	h := sha256.Sum256([]byte("unit image " + seed))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

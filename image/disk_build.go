package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/disk"
	"github.com/unit-os/unit/pkgbuild"
	"github.com/unit-os/unit/safepath"
	"github.com/unit-os/unit/uki"
	"github.com/unit-os/unit/update"
)

// DiskInfo is the manifest's account of a disk image (or of an update
// bundle, which has the same UKI and root but no disk).
type DiskInfo struct {
	Stub         Package `json:"stub"` // systemd-boot-efi: the stub and the loader
	StubSHA256   string  `json:"stub_sha256"`
	LoaderSHA256 string  `json:"loader_sha256"` // systemd-boot
	UKISize      int64   `json:"uki_size"`
	DiskSize     int64   `json:"disk_size,omitempty"`
	DiskGUID     string  `json:"disk_guid,omitempty"`
	ESPSize      int64   `json:"esp_size,omitempty"`
	DataSize     int64   `json:"data_size,omitempty"`
	DataLabel    string  `json:"data_label,omitempty"`
	DataUUID     string  `json:"data_uuid,omitempty"`
	DataMount    string  `json:"data_mount,omitempty"`
	// The root file system: a squashfs image (RootName) in root slot a,
	// found at boot by its PARTUUID (named on the command line); slot b
	// is empty until an update.
	RootSize int64      `json:"root_size"`
	SlotSize int64      `json:"slot_size,omitempty"`
	Slots    []DiskSlot `json:"slots,omitempty"`
	// Bundle is the update bundle (format update), its size and its id
	// (the sha256 of its manifest, which `unit update --sha256` pins).
	Bundle     string `json:"bundle,omitempty"`
	BundleSize int64  `json:"bundle_size,omitempty"`
	BundleID   string `json:"bundle_id,omitempty"`
	// InitramfsModules are the modules the initramfs carries to find and
	// mount the root (the rest are on the root), dependencies first.
	InitramfsModules []string  `json:"initramfs_modules"`
	Tools            []Package `json:"tools"` // what wrote the file systems
	// Reimaged: DIR/disk.img existed with the same layout, so only its
	// ESP was rewritten and the data partition kept. Not in the manifest:
	// it says how this build went, not what the image is.
	Reimaged bool `json:"-"`
}

// DiskSlot is one root slot of a disk image.
type DiskSlot struct {
	Name      string `json:"name"`
	Partition int    `json:"partition"` // its number in the GPT
	PARTUUID  string `json:"partuuid"`
}

// buildDiskImage writes DIR/unit.efi (the UKI), DIR/root.squashfs and
// DIR/disk.img, or for format update no disk (the bundle follows the
// manifest). initrd is the small initramfs that mounts root.
func buildDiskImage(ctx context.Context, log *slog.Logger, out, format string, sys config.System, res *Result, vmlinuz, initrd, root []byte, mtime int64) error {
	stub, err := os.ReadFile(uki.StubPath)
	if err != nil {
		return fmt.Errorf("disk: EFI stub: %w (install systemd-boot-efi)", err)
	}
	loader, err := os.ReadFile(LoaderPath)
	if err != nil {
		return fmt.Errorf("disk: systemd-boot: %w (install systemd-boot-efi)", err)
	}
	image, err := uki.Build(stub, []uki.Section{
		{Name: ".osrel", Data: update.OSRelease(sys.Hostname, res.Release, res.KernelVersion)},
		{Name: ".cmdline", Data: []byte(res.Cmdline)},
		{Name: ".linux", Data: vmlinuz},
		{Name: ".initrd", Data: initrd},
	})
	if err != nil {
		return fmt.Errorf("uki: %w", err)
	}
	var dataSize int64
	label := ""
	if sys.Data != nil {
		dataSize, label = int64(sys.Data.Size), sys.Data.FSLabel()
		if dataSize <= 0 {
			return fmt.Errorf("%s: [system] data: size is required, e.g. { size = \"256M\" }", sys.Pos)
		}
	}
	seed := sys.Hostname
	plan, err := planDisk(seed, int64(len(image)), int64(len(root)), int64(sys.SlotSize), dataSize, label)
	if err != nil {
		return fmt.Errorf("%s: [system]: %w", sys.Pos, err)
	}
	rootPath := filepath.Join(out, RootName)
	if err := writeAtomic(rootPath, root, 0o644); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(out, UKIName), image, 0o644); err != nil {
		return err
	}
	stubSum, loaderSum := sha256.Sum256(stub), sha256.Sum256(loader)
	info := &DiskInfo{
		Stub:         Package{Name: "systemd-boot-efi", Version: toolVersion(ctx, "systemd-boot-efi")},
		StubSHA256:   hex.EncodeToString(stubSum[:]),
		LoaderSHA256: hex.EncodeToString(loaderSum[:]),
		UKISize:      int64(len(image)),
		RootSize:     int64(len(root)),
		Tools:        []Package{{Name: "squashfs-tools", Version: toolVersion(ctx, "squashfs-tools")}},
	}
	res.Disk = info
	rootSum := sha256.Sum256(root)
	res.Files = append(res.Files, File{Name: RootName, Size: int64(len(root)), SHA256: hex.EncodeToString(rootSum[:])})
	ukiSum := sha256.Sum256(image)
	res.Files = append(res.Files, File{Name: UKIName, Size: int64(len(image)), SHA256: hex.EncodeToString(ukiSum[:])})
	if format == FormatUpdate {
		return nil
	}

	tmp, err := os.MkdirTemp(out, ".disk-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	esp, err := makeESP(ctx, tmp, plan, loader, image, mtime)
	if err != nil {
		return err
	}
	data := ""
	if plan.DataSize > 0 {
		if data, err = makeData(ctx, tmp, plan, mtime); err != nil {
			return err
		}
	}
	diskPath := filepath.Join(out, DiskName)
	reimaged, err := writeDisk(diskPath, plan, esp, rootPath, data)
	if err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	info.DiskSize = int64(plan.Sectors) * sectorSize
	info.DiskGUID = strings.ToLower(stableUUID(seed + " disk"))
	info.ESPSize = plan.ESPSize
	info.DataSize, info.DataLabel, info.DataUUID = plan.DataSize, plan.DataLabel, plan.DataUUID
	info.SlotSize = plan.SlotSize
	for _, name := range disk.Slots {
		_, i := plan.slot(name)
		info.Slots = append(info.Slots, DiskSlot{Name: name, Partition: i + 1, PARTUUID: plan.SlotUUID[name]})
	}
	info.Tools = append(info.Tools, Package{Name: "mtools", Version: toolVersion(ctx, "mtools")})
	info.Reimaged = reimaged
	if sys.Data != nil {
		info.DataMount = sys.Data.MountPoint()
		info.Tools = append(info.Tools, Package{Name: "e2fsprogs", Version: toolVersion(ctx, "e2fsprogs")})
	}
	diskSum, err := pkgbuild.FileSHA256(diskPath)
	if err != nil {
		return err
	}
	res.Files = append(res.Files, File{Name: DiskName, Size: info.DiskSize, SHA256: diskSum})
	log.Info("disk image", "path", diskPath, "size", info.DiskSize, "uki", info.UKISize, "root", info.RootSize,
		"slots", info.SlotSize, "data", plan.DataSize, "reimaged", reimaged)
	return nil
}

// writeBundle writes DIR/update.tar from the build's UKI, root and
// manifest (format update) and returns its id and size.
func writeBundle(out string, res *Result) (string, int64, error) {
	path := filepath.Join(out, update.BundleName)
	safepath.Sweep(out, safepath.Trusted()) // an interrupted build's temp files
	var (
		id   string
		size int64
	)
	err := safepath.WriteFileFunc(path, 0o600, -1, -1, func(f *os.File) error {
		_, err := update.WriteBundle(f, update.Manifest{Release: res.Release, Hostname: res.Hostname, Kernel: res.KernelVersion, Hardware: res.Hardware},
			map[string]string{update.ImagePart: filepath.Join(out, ManifestName), update.UKIPart: filepath.Join(out, UKIName), update.RootPart: filepath.Join(out, RootName)})
		if err != nil {
			return fmt.Errorf("bundle: %w", err)
		}
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		size = fi.Size()
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		br, err := update.NewReader(f)
		if err != nil {
			return fmt.Errorf("bundle: read back: %w", err)
		}
		id = br.ID()
		return nil
	}, safepath.Trusted(), safepath.AsCreated())
	if err != nil {
		return "", 0, err
	}
	return id, size, nil
}

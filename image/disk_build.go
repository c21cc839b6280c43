package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/pkgbuild"
)

// DiskInfo is the manifest's account of a disk image.
type DiskInfo struct {
	Stub       Package `json:"stub"` // systemd-boot-efi
	StubSHA256 string  `json:"stub_sha256"`
	UKISize    int64   `json:"uki_size"`
	DiskSize   int64   `json:"disk_size"`
	DiskGUID   string  `json:"disk_guid"`
	ESPSize    int64   `json:"esp_size"`
	DataSize   int64   `json:"data_size,omitempty"`
	DataLabel  string  `json:"data_label,omitempty"`
	DataUUID   string  `json:"data_uuid,omitempty"`
	DataMount  string  `json:"data_mount,omitempty"`
	// The root file system: a squashfs image (RootName) on its own
	// partition, found at boot by its PARTUUID (named on the command line).
	RootSize      int64  `json:"root_size"`           // the squashfs image
	RootPartSize  int64  `json:"root_partition_size"` // its partition
	RootPARTUUID  string `json:"root_partuuid"`
	RootPartition int    `json:"root_partition"` // its number in the GPT
	// InitramfsModules are the modules the initramfs carries to find and
	// mount the root (the rest are on the root), dependencies first.
	InitramfsModules []string  `json:"initramfs_modules"`
	Tools            []Package `json:"tools"` // what wrote the file systems
	// Reimaged: DIR/disk.img existed with the same layout, so only its
	// ESP was rewritten and the data partition kept. Not in the manifest:
	// it says how this build went, not what the image is.
	Reimaged bool `json:"-"`
}

// buildDiskImage writes DIR/unit.efi (the UKI), DIR/root.squashfs and
// DIR/disk.img. initrd is the small initramfs that mounts root.
func buildDiskImage(ctx context.Context, log *slog.Logger, out string, sys config.System, res *Result, vmlinuz, initrd, root []byte, mtime int64) error {
	stub, err := os.ReadFile(StubPath)
	if err != nil {
		return fmt.Errorf("disk: EFI stub: %w (install systemd-boot-efi)", err)
	}
	osrel := fmt.Sprintf("NAME=unit\nID=unit\nPRETTY_NAME=\"unit %s\"\nVERSION_ID=%s\n", sys.Hostname, res.KernelVersion)
	uki, err := buildUKI(stub, []ukiSection{
		{".osrel", []byte(osrel)},
		{".cmdline", []byte(res.Cmdline)},
		{".linux", vmlinuz},
		{".initrd", initrd},
	})
	if err != nil {
		return err
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
	plan, err := planDisk(seed, int64(len(uki)), int64(len(root)), dataSize, label)
	if err != nil {
		return fmt.Errorf("%s: [system] data: %w", sys.Pos, err)
	}
	tmp, err := os.MkdirTemp(out, ".disk-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	esp, err := makeESP(ctx, tmp, plan, uki, mtime)
	if err != nil {
		return err
	}
	data := ""
	if plan.DataSize > 0 {
		if data, err = makeData(ctx, tmp, plan, mtime); err != nil {
			return err
		}
	}
	rootPath := filepath.Join(out, RootName)
	if err := writeAtomic(rootPath, root, 0o644); err != nil {
		return err
	}
	diskPath := filepath.Join(out, DiskName)
	reimaged, err := writeDisk(diskPath, plan, esp, rootPath, data)
	if err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	if err := writeAtomic(filepath.Join(out, UKIName), uki, 0o644); err != nil {
		return err
	}
	stubSum := sha256.Sum256(stub)
	info := &DiskInfo{
		Stub:          Package{Name: "systemd-boot-efi", Version: toolVersion(ctx, "systemd-boot-efi")},
		StubSHA256:    hex.EncodeToString(stubSum[:]),
		UKISize:       int64(len(uki)),
		DiskSize:      int64(plan.Sectors) * sectorSize,
		DiskGUID:      strings.ToLower(stableUUID(seed + " disk")),
		ESPSize:       plan.ESPSize,
		DataSize:      plan.DataSize,
		DataLabel:     plan.DataLabel,
		DataUUID:      plan.DataUUID,
		RootSize:      int64(len(root)),
		RootPartSize:  plan.RootSize,
		RootPARTUUID:  plan.RootUUID,
		RootPartition: len(plan.Parts),
		Tools: []Package{{Name: "mtools", Version: toolVersion(ctx, "mtools")},
			{Name: "squashfs-tools", Version: toolVersion(ctx, "squashfs-tools")}},
		Reimaged: reimaged,
	}
	if sys.Data != nil {
		info.DataMount = sys.Data.MountPoint()
		info.Tools = append(info.Tools, Package{Name: "e2fsprogs", Version: toolVersion(ctx, "e2fsprogs")})
	}
	res.Disk = info
	rootSum := sha256.Sum256(root)
	res.Files = append(res.Files, File{Name: RootName, Size: int64(len(root)), SHA256: hex.EncodeToString(rootSum[:])})
	ukiSum := sha256.Sum256(uki)
	res.Files = append(res.Files, File{Name: UKIName, Size: int64(len(uki)), SHA256: hex.EncodeToString(ukiSum[:])})
	diskSum, err := pkgbuild.FileSHA256(diskPath)
	if err != nil {
		return err
	}
	res.Files = append(res.Files, File{Name: DiskName, Size: info.DiskSize, SHA256: diskSum})
	log.Info("disk image", "path", diskPath, "size", info.DiskSize, "uki", info.UKISize, "root", info.RootSize,
		"root_partition", info.RootPartSize, "data", plan.DataSize, "reimaged", reimaged)
	return nil
}

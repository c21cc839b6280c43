package pid1

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/config"
)

// dataWait is how long boot waits for the data partition's disk: its
// driver may still be probing when unit gets here.
const dataWait = 10 * time.Second

// mountData mounts the ext4 file system labelled d.FSLabel() on
// d.MountPoint(). The partition is found by its label, not a device
// name, so the same image works with virtio, SATA or NVMe disks.
func mountData(d *config.DataPartition) (string, error) {
	label := d.FSLabel()
	deadline := time.Now().Add(dataWait)
	var dev string
	for {
		dev = findExt4Label(label)
		if dev != "" || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if dev == "" {
		return "", fmt.Errorf("data partition: no ext4 file system labelled %q after %s", label, dataWait)
	}
	target := d.MountPoint()
	if err := os.MkdirAll(target, 0o755); err != nil {
		return "", fmt.Errorf("data partition: %w", err)
	}
	if err := unix.Mount(dev, target, "ext4", unix.MS_NOATIME|unix.MS_NODEV, ""); err != nil {
		return "", fmt.Errorf("data partition: mount %s on %s: %w", dev, target, err)
	}
	return dev, nil
}

// findExt4Label returns /dev/NAME of the block device whose ext4
// superblock carries label, or "".
func findExt4Label(label string) string {
	names, _ := filepath.Glob("/sys/class/block/*")
	for _, p := range names {
		dev := "/dev/" + filepath.Base(p)
		if l, ok := ext4Label(dev); ok && l == label {
			return dev
		}
	}
	return ""
}

// ext4Label reads the volume name from an ext4 superblock (at byte 1024;
// magic 0xEF53 at offset 0x38, 16-byte name at 0x78).
func ext4Label(dev string) (string, bool) {
	f, err := os.Open(dev)
	if err != nil {
		return "", false
	}
	defer f.Close()
	sb := make([]byte, 1024)
	if _, err := f.ReadAt(sb, 1024); err != nil {
		return "", false
	}
	if binary.LittleEndian.Uint16(sb[0x38:]) != 0xEF53 {
		return "", false
	}
	return strings.TrimRight(string(sb[0x78:0x88]), "\x00"), true
}

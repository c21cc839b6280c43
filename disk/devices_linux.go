package disk

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Devices finds partitions by their GPT PARTUUID: the kernel's own
// sysfs view of disks and partitions, and each disk's partition table read
// from its device node. Nothing depends on the disk's name, so virtio
// (vda), SATA/SCSI/USB (sda) and NVMe (nvme0n1) disks are all found.
type Devices struct {
	Sys string // "/sys/block"
	Dev string // "/dev"
	// Open opens a disk's device node for reading; openBlock by default.
	Open func(path string) (*os.File, error)
}

// System is the machine's block devices.
func System() Devices {
	return Devices{Sys: "/sys/block", Dev: "/dev", Open: openBlock}
}

// Disks are the names of the disks in sysfs (vda, nvme0n1), without loop
// and RAM disks.
func (b Devices) Disks() []string {
	des, _ := os.ReadDir(b.Sys)
	var out []string
	for _, d := range des {
		name := d.Name()
		if strings.HasPrefix(name, "loop") || strings.HasPrefix(name, "ram") {
			continue
		}
		out = append(out, name)
	}
	return out
}

// openBlock opens a block device read-only, without following a symlink,
// and refuses anything that is not a block device.
func openBlock(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		unix.Close(fd)
		return nil, fmt.Errorf("%s: not a block device", path)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// find returns the device nodes of the partitions whose PARTUUID is uuid,
// and a line per disk saying what it holds (for the message when the
// root is not there).
func (b Devices) find(uuid string) (matches, seen []string) {
	for _, name := range b.Disks() {
		guids, err := b.Partitions(name)
		if err != nil {
			seen = append(seen, name+": "+err.Error())
			continue
		}
		nums := make([]int, 0, len(guids))
		for n := range guids {
			nums = append(nums, n)
		}
		sort.Ints(nums)
		var desc []string
		for _, n := range nums {
			desc = append(desc, fmt.Sprintf("%d=%s", n, guids[n].GUID))
			if guids[n].GUID != uuid {
				continue
			}
			part := b.PartitionName(name, n)
			if part == "" {
				desc[len(desc)-1] += " (no device yet)"
				continue
			}
			matches = append(matches, filepath.Join(b.Dev, part))
		}
		seen = append(seen, name+": "+strings.Join(desc, " "))
	}
	return matches, seen
}

// Partitions reads the GPT of disk name.
func (b Devices) Partitions(name string) (map[int]Entry, error) {
	ss := int64(512)
	if v, err := os.ReadFile(filepath.Join(b.Sys, name, "queue", "logical_block_size")); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64); err == nil {
			ss = n
		}
	}
	f, err := b.Open(filepath.Join(b.Dev, name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Scan(f, ss)
}

// PartitionName is the kernel's name for partition n of disk (vda3,
// nvme0n1p3), from the "partition" file of each of the disk's children
// in sysfs, or "" when the kernel has not made it (yet).
func (b Devices) PartitionName(disk string, n int) string {
	children, _ := os.ReadDir(filepath.Join(b.Sys, disk))
	for _, c := range children {
		v, err := os.ReadFile(filepath.Join(b.Sys, disk, c.Name(), "partition"))
		if err == nil && strings.TrimSpace(string(v)) == strconv.Itoa(n) {
			return c.Name()
		}
	}
	return ""
}

// PartitionSize is a partition's size from sysfs (in 512-byte units
// whatever the disk's sectors), 0 when sysfs does not say.
func (b Devices) PartitionSize(disk, part string) int64 {
	v, err := os.ReadFile(filepath.Join(b.Sys, disk, part, "size"))
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64)
	return n * 512
}

// WaitPartition returns the device of the partition uuid, waiting up to
// wait for it to appear: every block device the kernel adds (or changes)
// is announced on the uevent socket, and each announcement is followed by
// a new look. It fails when the time is up, or when two partitions claim
// the uuid (booting either could be wrong).
func (b Devices) WaitPartition(ctx context.Context, uuid string, wait time.Duration) (string, error) {
	deadline := time.Now().Add(wait)
	// The socket is open before the first look, so nothing added in
	// between goes unseen.
	fd, err := UeventSocket()
	if err != nil {
		fd = -1
	} else {
		defer unix.Close(fd)
	}
	for {
		matches, seen := b.find(uuid)
		switch {
		case len(matches) == 1:
			return matches[0], nil
		case len(matches) > 1:
			return "", fmt.Errorf("PARTUUID=%s is on %s: refusing to guess which is the root", uuid, strings.Join(matches, " and "))
		}
		left := time.Until(deadline)
		if left <= 0 || ctx.Err() != nil {
			if len(seen) == 0 {
				seen = []string{"no disks"}
			}
			return "", fmt.Errorf("no partition with PARTUUID=%s after %s; disks seen (partition=PARTUUID): %s",
				uuid, wait, strings.Join(seen, "; "))
		}
		if err := AwaitUevent(fd, left); err != nil {
			return "", fmt.Errorf("waiting for PARTUUID=%s: %w", uuid, err)
		}
	}
}

// ueventFallback is how often the disks are looked at again when there is
// no uevent socket (a kernel without netlink): never expected, but the
// root must still be found.
const ueventFallback = 250 * time.Millisecond

// AwaitUevent returns when a uevent arrived (all queued ones are read) or
// d passed. With no socket (fd < 0) it waits ueventFallback.
func AwaitUevent(fd int, d time.Duration) error {
	if fd < 0 {
		time.Sleep(min(d, ueventFallback))
		return nil
	}
	ms := int(d.Milliseconds()) + 1
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(pfd, ms)
	if err != nil && err != unix.EINTR {
		return fmt.Errorf("poll uevents: %w", err)
	}
	if n <= 0 {
		return nil
	}
	buf := make([]byte, 16<<10)
	for {
		_, _, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT)
		if err == unix.EAGAIN || err == unix.EWOULDBLOCK {
			return nil
		}
		if err != nil && err != unix.EINTR && err != unix.ENOBUFS {
			return fmt.Errorf("read uevents: %w", err)
		}
	}
}

// UeventSocket opens the kernel's uevent broadcast (as the hotplug
// listener, the wait for a root partition and the machine port do); the
// caller closes it.
func UeventSocket() (int, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_KOBJECT_UEVENT)
	if err != nil {
		return -1, err
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1}); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

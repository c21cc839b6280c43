package pid1

import (
	"github.com/unit-os/unit/mountinfo"

	"bufio"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

type mount struct {
	source, target, fstype string
	flags                  uintptr
	data                   string
}

// earlyMounts are the API filesystems every service expects.
var earlyMounts = []mount{
	{"proc", "/proc", "proc", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
	{"sysfs", "/sys", "sysfs", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
	{"devtmpfs", "/dev", "devtmpfs", unix.MS_NOSUID, "mode=0755"},
	{"devpts", "/dev/pts", "devpts", unix.MS_NOSUID | unix.MS_NOEXEC, "gid=5,mode=0620,ptmxmode=0666"},
	{"tmpfs", "/dev/shm", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=1777"},
	{"tmpfs", "/run", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=0755"},
	{"tmpfs", "/tmp", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=1777"},
	{"cgroup2", "/sys/fs/cgroup", "cgroup2", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, "nsdelegate"},
}

// mountEarly mounts what is not mounted yet: on the disk format's root,
// /dev, /proc, /sys and /run come mounted from the initramfs, and a second
// tmpfs on /run would hide the root's own layers. It keeps going on errors
// (a machine with /proc but no cgroup2 is still worth booting) and returns
// them.
func mountEarly() error {
	var errs []error
	for _, m := range earlyMounts {
		if mountPoints()[m.target] {
			continue
		}
		if err := os.MkdirAll(m.target, 0o755); err != nil {
			errs = append(errs, fmt.Errorf("mkdir %s: %w", m.target, err))
			continue
		}
		err := unix.Mount(m.source, m.target, m.fstype, m.flags, m.data)
		if err != nil && !errors.Is(err, unix.EBUSY) {
			errs = append(errs, fmt.Errorf("mount %s on %s: %w", m.fstype, m.target, err))
		}
	}
	return errors.Join(errs...)
}

// unmountAll unmounts everything but / in reverse mount order; what stays
// busy is detached. Root is remounted read-only.
func unmountAll() error {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return fmt.Errorf("read mounts: %w", err)
	}
	var targets []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[1] != "/" {
			targets = append(targets, fields[1])
		}
	}
	f.Close()
	// Deeper first: /sys/fs/cgroup before /sys.
	sort.SliceStable(targets, func(i, j int) bool { return strings.Count(targets[i], "/") > strings.Count(targets[j], "/") })
	var errs []error
	for _, t := range targets {
		switch t {
		case "/proc", "/sys", "/dev": // needed to the end; the kernel takes care of them
			continue
		}
		if err := unix.Unmount(t, 0); err != nil {
			if err2 := unix.Unmount(t, unix.MNT_DETACH); err2 != nil {
				errs = append(errs, fmt.Errorf("unmount %s: %w", t, err))
			}
		}
	}
	_ = unix.Mount("", "/", "", unix.MS_REMOUNT|unix.MS_RDONLY, "")
	return errors.Join(errs...)
}

// mountPoints are the mount points in /proc/self/mountinfo (empty before
// /proc is mounted).
func mountPoints() map[string]bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return map[string]bool{}
	}
	return mountinfo.Points(string(b))
}

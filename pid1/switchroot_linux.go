package pid1

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Where the disk format's root is put together. The squashfs and the
// tmpfs under the overlay are mounted in /run, which moves to the root
// with its submounts: the booted system sees them at the same paths.
const (
	sysroot      = "/sysroot"             // the overlay, before it becomes /
	rootImageDir = "/run/unit/root/image" // the squashfs, read-only
	rootRWDir    = "/run/unit/root/rw"    // tmpfs: the overlay's upper and work dirs
	rootFSType   = "squashfs"             // what the root partition holds
	rootInit     = "/init"                // the root's unit, run as PID 1
)

// mountRoot mounts the squashfs on dev read-only and a writable overlay
// over it (upper layer on a tmpfs: writes are kept until power off) on
// sysroot, and checks that the result has an /init to run.
func mountRoot(dev string) error {
	for _, d := range []string{rootImageDir, rootRWDir, sysroot} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("mkdir %s: %w", d, err)
		}
	}
	if err := unix.Mount(dev, rootImageDir, rootFSType, unix.MS_RDONLY, ""); err != nil {
		return fmt.Errorf("mount %s (%s) on %s read-only: %w", dev, rootFSType, rootImageDir, err)
	}
	if err := unix.Mount("tmpfs", rootRWDir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", rootRWDir, err)
	}
	upper, work := filepath.Join(rootRWDir, "upper"), filepath.Join(rootRWDir, "work")
	for _, d := range []string{upper, work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return fmt.Errorf("mkdir %s: %w", d, err)
		}
	}
	opts := "lowerdir=" + rootImageDir + ",upperdir=" + upper + ",workdir=" + work
	if err := unix.Mount("overlay", sysroot, "overlay", 0, opts); err != nil {
		return fmt.Errorf("mount overlay (%s) on %s: %w", opts, sysroot, err)
	}
	fi, err := os.Lstat(filepath.Join(sysroot, rootInit))
	if err != nil {
		return fmt.Errorf("the root on %s: %w", dev, err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("the root on %s: %s is not an executable file (%v)", dev, rootInit, fi.Mode())
	}
	return nil
}

// isInitramfs says whether / is the kernel's rootfs (ramfs or tmpfs),
// the only root switchRoot empties. After the switch / is the overlay, so
// unit on the root knows not to switch again.
func isInitramfs() bool {
	var st unix.Statfs_t
	if err := unix.Statfs("/", &st); err != nil {
		return false
	}
	return st.Type == unix.RAMFS_MAGIC || st.Type == unix.TMPFS_MAGIC
}

// movedMounts go from the initramfs to the new root, as switch_root
// moves them; their submounts (devpts, cgroup2, the root's own layers in
// /run) go with them.
var movedMounts = []string{"/dev", "/proc", "/sys", "/run"}

// switchRoot makes newRoot the root, as switch_root does: the API file
// systems move into it, the initramfs's files are deleted (their memory
// is freed; nothing on another file system is touched), newRoot moves
// onto / and becomes the root directory. The caller then executes the
// new root's init. Everything that can be checked is checked before the
// first change.
func switchRoot(newRoot string) error {
	if !isInitramfs() {
		return errors.New("switch root: / is not an initramfs; refusing to empty it")
	}
	var rootSt, newSt unix.Stat_t
	if err := unix.Stat("/", &rootSt); err != nil {
		return fmt.Errorf("switch root: %w", err)
	}
	if err := unix.Stat(newRoot, &newSt); err != nil {
		return fmt.Errorf("switch root: %w", err)
	}
	if rootSt.Dev == newSt.Dev {
		return fmt.Errorf("switch root: %s is not a mount point", newRoot)
	}
	if err := unix.Chdir(newRoot); err != nil {
		return fmt.Errorf("switch root: %w", err)
	}
	for _, m := range movedMounts {
		target := filepath.Join(newRoot, m)
		if err := os.MkdirAll(target, 0o755); err != nil {
			return fmt.Errorf("switch root: mkdir %s: %w", target, err)
		}
		if err := unix.Mount(m, target, "", unix.MS_MOVE, ""); err != nil {
			return fmt.Errorf("switch root: move %s to %s: %w", m, target, err)
		}
	}
	// What else the initramfs had mounted (/tmp) is of no use to the root.
	_ = unix.Unmount("/tmp", unix.MNT_DETACH)
	fd, err := unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("switch root: %w", err)
	}
	// A file that cannot be deleted only costs its memory.
	_ = removeTree(fd, rootSt.Dev)
	unix.Close(fd)
	if err := unix.Mount(".", "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("switch root: move %s to /: %w", newRoot, err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("switch root: chroot: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("switch root: %w", err)
	}
	return nil
}

// removeTree deletes everything in the directory dirfd that is on device
// dev, depth first. It never follows a symlink (a link is deleted, not
// its target) and never descends into another file system (a mount
// point, or a directory that changed under it), so only the initramfs's
// own files go. dirfd stays open; the caller closes it.
func removeTree(dirfd int, dev uint64) error {
	dup, err := unix.Dup(dirfd)
	if err != nil {
		return err
	}
	dir := os.NewFile(uintptr(dup), "dir")
	names, err := dir.Readdirnames(-1)
	dir.Close()
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range names {
		var st unix.Stat_t
		if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			errs = append(errs, err)
			continue
		}
		if st.Dev != dev {
			continue // a mount point: not ours
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			if err := unix.Unlinkat(dirfd, name, 0); err != nil {
				errs = append(errs, fmt.Errorf("unlink %s: %w", name, err))
			}
			continue
		}
		sub, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			errs = append(errs, fmt.Errorf("open %s: %w", name, err))
			continue
		}
		var subSt unix.Stat_t
		if err := unix.Fstat(sub, &subSt); err != nil || subSt.Dev != dev || subSt.Ino != st.Ino {
			unix.Close(sub) // replaced between the two looks: leave it
			continue
		}
		if err := removeTree(sub, dev); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		unix.Close(sub)
		if err := unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR); err != nil {
			errs = append(errs, fmt.Errorf("rmdir %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

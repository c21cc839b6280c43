package safepath

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Atomic writes: a reader (or a crash) sees the old file or the new one,
// never a mix. The bytes go to a temp file in the same directory (rename is
// only atomic within one filesystem) made with O_EXCL|O_NOFOLLOW, which gets
// its owner and mode while still unnamed, is fsynced, renamed over the name
// and the directory fsynced, so the rename itself survives a power cut. On
// any failure before the rename the temp file is removed and the old file is
// untouched: a full disk stays no fuller.
//
// mode is Go's os.FileMode: setuid is os.ModeSetuid, not 0o4000. uid or gid
// -1 leaves that id as the temp file got it. A relative path is taken from
// the working directory.

// WriteFile replaces path with data.
func WriteFile(path string, data []byte, mode os.FileMode, uid, gid int, opts ...Option) error {
	return writePath(path, opts, func(d *Dir, base string, o *options) (string, error) {
		return d.writeTemp(base, o.createPerm(mode), mode, uid, gid, o.keepMode, true, func(fd int, _ string) error {
			return writeAll(fd, data)
		})
	})
}

// WriteFileFunc replaces path with what write puts in f, for content too
// large to hold in memory (downloads, disk images). f is open for reading
// and writing at offset 0; write must not close it. An error from write
// leaves no temp file and the old file in place.
func WriteFileFunc(path string, mode os.FileMode, uid, gid int, write func(f *os.File) error, opts ...Option) error {
	return writePath(path, opts, func(d *Dir, base string, o *options) (string, error) {
		return d.WriteTempFunc(base, mode, uid, gid, write, opts...)
	})
}

// writePath reaches path's directory, has temp write the new file beside
// base, renames it into place and syncs the directory.
func writePath(path string, opts []Option, temp func(d *Dir, base string, o *options) (string, error)) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	d, base, err := OpenParent(abs, opts...)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer d.Close()
	tmp, err := temp(d, base, optionsOf(opts))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := d.Commit(tmp, base); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// The new content is in place from here on; a failed directory sync is
	// still reported, but there is no temp file left to clean up.
	if err := d.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// CreateFile writes a new file at path only if none is there: the temp
// file is put in place with link(2), which fails if path exists. So a crash
// never leaves half a file, and of two processes making the same file only
// one wins; the other's error wraps os.ErrExist.
func CreateFile(path string, data []byte, mode os.FileMode, uid, gid int, opts ...Option) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	d, base, err := OpenParent(abs, opts...)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer d.Close()
	o := optionsOf(opts)
	tmp, err := d.writeTemp(base, o.createPerm(mode), mode, uid, gid, o.keepMode, true, func(fd int, _ string) error {
		return writeAll(fd, data)
	})
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	err = unix.Linkat(d.fd, tmp, d.fd, base, 0)
	unix.Unlinkat(d.fd, tmp, 0)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := d.Sync(); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return nil
}

// Rename moves the finished file src (written by someone else, a download)
// to dst on the same filesystem durably: src is fsynced first and dst's
// directory after. A failure leaves src where it was, for its owner to
// remove.
func Rename(src, dst string, opts ...Option) error {
	f, err := os.OpenFile(src, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", src, err)
	}
	abs, err := filepath.Abs(dst)
	if err != nil {
		return err
	}
	d, base, err := OpenParent(abs, opts...)
	if err != nil {
		return fmt.Errorf("rename to %s: %w", dst, err)
	}
	defer d.Close()
	if err := unix.Renameat(unix.AT_FDCWD, src, d.fd, base); err != nil {
		return fmt.Errorf("rename %s to %s: %w", src, dst, err)
	}
	return d.Sync()
}

// WriteTemp writes data to a new temp file beside base in d, with its ids
// and mode set, fsynced when sync, and returns its name for Commit. Raw
// syscalls: a regular file gains nothing from the runtime's poller, and its
// setup costs three syscalls per file. With the process umask known (not
// -1) and no setuid/setgid/sticky bit (which need a chmod after any chown),
// the file is created with its final permissions: a first apply saves a
// chmod per file. On error nothing is left behind.
func (d *Dir) WriteTemp(base string, data []byte, mode os.FileMode, uid, gid, umask int, sync bool) (string, error) {
	want := UnixMode(mode)
	perm, keep := uint32(0o600), false
	if umask >= 0 && want&^0o777 == 0 && want&uint32(umask) == 0 {
		perm, keep = want, true
	}
	return d.writeTemp(base, perm, mode, uid, gid, keep, sync, func(fd int, _ string) error {
		return writeAll(fd, data)
	})
}

// WriteTempFunc is WriteTemp (always synced) with the content from write;
// see WriteFileFunc.
func (d *Dir) WriteTempFunc(base string, mode os.FileMode, uid, gid int, write func(f *os.File) error, opts ...Option) (string, error) {
	o := optionsOf(opts)
	return d.writeTemp(base, o.createPerm(mode), mode, uid, gid, o.keepMode, true, func(fd int, tmp string) error {
		// A second descriptor for the *os.File: closing it leaves fd, which
		// writeTemp still needs, open.
		dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return err
		}
		f := os.NewFile(uintptr(dup), d.path+"/"+tmp)
		defer f.Close()
		return write(f)
	})
}

// writeTemp makes the temp file with perm, has fill write it, sets ids
// and (unless keepMode) mode, and fsyncs it when sync.
func (d *Dir) writeTemp(base string, perm uint32, mode os.FileMode, uid, gid int, keepMode, sync bool, fill func(fd int, tmp string) error) (string, error) {
	var (
		tmp string
		fd  int
		err error
	)
	for {
		tmp = fmt.Sprintf("%s%08x", TempPrefix(base), rand.Uint32())
		fd, err = unix.Openat(d.fd, tmp, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, perm)
		if err != unix.EEXIST {
			break
		}
	}
	if err != nil {
		return "", err
	}
	// The file exists from here on: every failure below goes through
	// fail, which removes it. (A named result cleaned up in a defer would
	// see the name already reset by `return "", err`.)
	fail := func(err error) (string, error) {
		if fd >= 0 {
			unix.Close(fd)
		}
		unix.Unlinkat(d.fd, tmp, 0)
		return "", err
	}
	if err := fill(fd, tmp); err != nil {
		return fail(err)
	}
	if uid >= 0 || gid >= 0 {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return fail(err)
		}
		// Only ids that differ: an unprivileged caller asking for its own
		// ids must not fail with EPERM.
		if (uid >= 0 && uint32(uid) != st.Uid) || (gid >= 0 && uint32(gid) != st.Gid) {
			if err := unix.Fchown(fd, uid, gid); err != nil {
				return fail(err)
			}
		}
	}
	// After the chown, which clears setuid/setgid.
	if !keepMode {
		if err := unix.Fchmod(fd, UnixMode(mode)); err != nil {
			return fail(err)
		}
	}
	if sync {
		if err := unix.Fsync(fd); err != nil {
			return fail(err)
		}
	}
	err = unix.Close(fd)
	fd = -1 // closed even when close reports an error
	if err != nil {
		return fail(err)
	}
	return tmp, nil
}

func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// Commit renames the temp file tmp over base; on failure tmp is removed.
// The directory is not synced: see Sync.
func (d *Dir) Commit(tmp, base string) error {
	if err := unix.Renameat(d.fd, tmp, d.fd, base); err != nil {
		unix.Unlinkat(d.fd, tmp, 0)
		return err
	}
	return nil
}

// Symlink points base in d at target atomically (a link made under a
// temp name and renamed over) and syncs the directory.
func (d *Dir) Symlink(target, base string) error {
	var tmp string
	for {
		tmp = fmt.Sprintf("%s%08x", TempPrefix(base), rand.Uint32())
		err := unix.Symlinkat(target, d.fd, tmp)
		if err == nil {
			break
		}
		if err != unix.EEXIST {
			return err
		}
	}
	if err := d.Commit(tmp, base); err != nil {
		return err
	}
	return d.Sync()
}

// Symlink points path at target atomically.
func Symlink(target, path string, opts ...Option) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("symlink %s: %w", path, err)
	}
	d, base, err := OpenParent(abs, opts...)
	if err != nil {
		return fmt.Errorf("symlink %s: %w", path, err)
	}
	defer d.Close()
	if err := d.Symlink(target, base); err != nil {
		return fmt.Errorf("symlink %s: %w", path, err)
	}
	return nil
}

// Sync fsyncs the directory, which makes the renames in it durable: its
// O_PATH descriptor cannot be synced, "." opened from it can.
func (d *Dir) Sync() error {
	fd, err := unix.Openat(d.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", d.path, err)
	}
	defer unix.Close(fd)
	if err := unix.Fsync(fd); err != nil {
		return fmt.Errorf("sync dir %s: %w", d.path, err)
	}
	return nil
}

// SyncDir fsyncs the directory at path.
func SyncDir(path string, opts ...Option) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", path, err)
	}
	d, err := Open(abs, opts...)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	defer d.Close()
	return d.Sync()
}

// UnixMode converts Go's os.FileMode back to unix permission bits.
func UnixMode(m os.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&os.ModeSetuid != 0 {
		u |= unix.S_ISUID
	}
	if m&os.ModeSetgid != 0 {
		u |= unix.S_ISGID
	}
	if m&os.ModeSticky != 0 {
		u |= unix.S_ISVTX
	}
	return u
}

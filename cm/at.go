package cm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/unit-os/unit/safepath"
	"golang.org/x/sys/unix"
)

// Managed paths are worked on through their parent directory's descriptor,
// reached by a safe walk (package safepath), and never through a symlink in
// their last element: these are the *at helpers every resource uses.

// statAt lstats name in d; exists is false when there is nothing.
func statAt(d *safepath.Dir, name string) (st unix.Stat_t, exists bool, err error) {
	err = unix.Fstatat(d.Fd(), name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("stat %s/%s: %w", d.Path(), name, err)
	}
	return st, true, nil
}

// readAt reads the regular file name in d whose stat said size bytes, with
// raw syscalls: os.ReadFile adds an fstat and, through the runtime's
// poller setup, five fcntl/epoll calls per file, which a no-op pass over
// thousands of files pays for nothing. O_NOFOLLOW: a symlink swapped in
// since the stat fails the read (the next event looks again); O_NONBLOCK:
// nor does a fifo swapped in block the engine.
func readAt(d *safepath.Dir, name string, size int64) (_ []byte, err error) {
	fd, err := unix.Openat(d.Fd(), name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("read %s/%s: %w", d.Path(), name, err)
	}
	defer unix.Close(fd)
	// One byte more than expected, so a file that grew meanwhile is read
	// on instead of being taken as complete. A read that fills less than
	// it asked for is the end of a regular file: no second read to see
	// 0 (a fifth of a no-op pass's syscalls). Were it ever short for
	// another reason, the content would differ and be rewritten: never
	// a drift missed.
	buf := make([]byte, 0, size+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		want := cap(buf) - len(buf)
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s/%s: %w", d.Path(), name, err)
		}
		buf = buf[:len(buf)+n]
		if n < want {
			return buf, nil
		}
	}
}

// setAttrsAt gives name in d the ids (-1 leaves one) and mode, on the
// object itself: opened O_PATH|O_NOFOLLOW, checked to be of the kind
// expected (S_IFREG or S_IFDIR), then changed through that descriptor.
// A regular file with several links is refused while the kernel's
// fs.protected_hardlinks is off, as systemd-tmpfiles does: it may be a
// link a user made to /etc/shadow.
func setAttrsAt(d *safepath.Dir, name string, kind uint32, uid, gid int, mode os.FileMode) error {
	path := d.Path() + "/" + name
	fd, err := unix.Openat(d.Fd(), name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != kind {
		return fmt.Errorf("%s changed under us: now a %s", path, unixType(st.Mode))
	}
	if kind == unix.S_IFREG && st.Nlink > 1 && !protectedHardlinks() {
		return fmt.Errorf("%s has %d hard links and fs.protected_hardlinks is off: not changing its owner or mode (it may be another file's link)", path, st.Nlink)
	}
	if (uid >= 0 && uint32(uid) != st.Uid) || (gid >= 0 && uint32(gid) != st.Gid) {
		if err := unix.Fchownat(fd, "", uid, gid, unix.AT_EMPTY_PATH); err != nil {
			return fmt.Errorf("chown %s: %w", path, err)
		}
	}
	// After the chown, which clears setuid/setgid. fchmod cannot take an
	// O_PATH descriptor; its /proc/self/fd link reaches the same inode.
	if err := unix.Chmod(fmt.Sprintf("/proc/self/fd/%d", fd), safepath.UnixMode(mode)); err != nil {
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	return nil
}

// protectedHardlinks reads fs.protected_hardlinks (PID 1 turns it on).
func protectedHardlinks() bool {
	b, err := os.ReadFile("/proc/sys/fs/protected_hardlinks")
	return err == nil && strings.TrimSpace(string(b)) == "1"
}

// removeAllAt removes name in d and, if it is a directory, everything in
// it, never following a symlink (each level is opened O_NOFOLLOW from the
// one above).
func removeAllAt(dirfd int, name string) error {
	err := unix.Unlinkat(dirfd, name, 0)
	if err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	if !errors.Is(err, unix.EISDIR) && !errors.Is(err, unix.EPERM) {
		return err
	}
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	names, err := readDirNames(fd)
	if err == nil {
		for _, n := range names {
			if err = removeAllAt(fd, n); err != nil {
				break
			}
		}
	}
	unix.Close(fd)
	if err != nil {
		return err
	}
	if err := unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR); err != nil && !errors.Is(err, unix.ENOENT) {
		return err
	}
	return nil
}

// openDirAt opens the directory d itself for reading its entries.
func openDirAt(d *safepath.Dir) (int, error) {
	fd, err := unix.Openat(d.Fd(), ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open %s: %w", d.Path(), err)
	}
	return fd, nil
}

// unixType names a stat mode's file type for messages.
func unixType(m uint32) string {
	switch m & unix.S_IFMT {
	case unix.S_IFREG:
		return "regular file"
	case unix.S_IFDIR:
		return "directory"
	case unix.S_IFLNK:
		return "symlink"
	case unix.S_IFIFO:
		return "fifo"
	case unix.S_IFSOCK:
		return "socket"
	}
	return "device"
}

// onDisk is what a managed path is now: its parent reached by a safe walk
// (nil when the parent does not exist, so neither does the path) and its
// lstat.
type onDisk struct {
	dir    *safepath.Dir
	base   string
	done   func() // releases dir
	st     unix.Stat_t
	exists bool
}

// look finds path's parent (from the pass's cache) and lstats path in it.
// The caller calls close.
func look(ctx context.Context, path string) (*onDisk, error) {
	d, base, done, err := openParent(ctx, path)
	switch {
	case errors.Is(err, unix.ENOENT):
		return &onDisk{done: func() {}}, nil
	case err != nil:
		return nil, err
	}
	o := &onDisk{dir: d, base: base, done: done}
	if o.st, o.exists, err = statAt(d, base); err != nil {
		done()
		return nil, err
	}
	return o, nil
}

func (o *onDisk) close() { o.done() }

// kind is the file type bits of what is there.
func (o *onDisk) kind() uint32 { return o.st.Mode & unix.S_IFMT }

// makeParent walks to the parent, making missing directories, when look
// found none.
func (o *onDisk) makeParent(ctx context.Context, path string) error {
	if o.dir != nil {
		return nil
	}
	d, base, done, err := openParent(ctx, path, safepath.Create(0o755))
	if err != nil {
		return err
	}
	o.dir, o.base, o.done = d, base, done
	return nil
}

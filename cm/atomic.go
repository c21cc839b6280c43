package cm

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sync"

	"github.com/unit-os/unit/safepath"
	"golang.org/x/sys/unix"
)

// WriteFileAtomic replaces path with data so that a reader (or a crash) sees
// either the old file or the new one, never a mix: it writes a temp file in
// the same directory (rename is only atomic within one filesystem), sets
// owner and mode on the open file, fsyncs it, renames it over path and fsyncs
// the directory so the rename itself survives a power cut. The directory is
// reached by a safe walk (package safepath): a symlink a user planted on the
// way is not followed.
//
// mode is Go's os.FileMode: setuid is os.ModeSetuid, not 0o4000.
// uid or gid -1 leaves that id as the temp file got it. On any failure before
// the rename the temp file is removed and the old file is untouched.
func WriteFileAtomic(path string, data []byte, mode os.FileMode, uid, gid int) error {
	d, base, err := safepath.OpenParent(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer d.Close()
	return writeFileAt(d, base, data, mode, uid, gid, nil)
}

// writeFileAt is WriteFileAtomic into an open directory; with a dirSyncer
// the directory fsync is left to it, so a convergence that writes many
// files into one directory syncs the directory once. The temp file is still
// fsynced before the rename: that is what keeps a crash from exposing a
// torn file; the deferred directory sync only decides whether the rename
// itself survives.
func writeFileAt(d *safepath.Dir, base string, data []byte, mode os.FileMode, uid, gid int, ds *dirSyncer) error {
	path := d.Path() + "/" + base
	tmp, err := writeTemp(d, base, data, mode, uid, gid, -1, true)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := unix.Renameat(d.Fd(), tmp, d.Fd(), base); err != nil {
		unix.Unlinkat(d.Fd(), tmp, 0)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if ds != nil {
		ds.add(d.Path())
		return nil
	}
	// The new content is in place from here on; a failed directory sync is
	// still reported, but there is no temp file left to clean up.
	if err := syncDirFd(d); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// writeTemp writes data to a new temp file beside base in d, with its ids
// and mode set, fsynced when sync, and returns its name. Raw syscalls: a
// regular file gains nothing from the runtime's poller, and its setup costs
// three syscalls per file. With the process umask known (not -1) and no
// setuid/setgid/sticky bit (which need a chmod after any chown), the file
// is created with its final permissions: a first apply saves a chmod per
// file. On error nothing is left behind: a full disk stays no fuller.
func writeTemp(d *safepath.Dir, base string, data []byte, mode os.FileMode, uid, gid, umask int, sync bool) (string, error) {
	want := unixMode(mode)
	perm, chmod := uint32(0o600), true
	if umask >= 0 && want&^0o777 == 0 && want&uint32(umask) == 0 {
		perm, chmod = want, false
	}
	var (
		tmp string
		fd  int
		err error
	)
	for {
		tmp = fmt.Sprintf("%s%08x", tempPrefix(base), rand.Uint32())
		fd, err = unix.Openat(d.Fd(), tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, perm)
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
		unix.Unlinkat(d.Fd(), tmp, 0)
		return "", err
	}
	for b := data; len(b) > 0; {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fail(err)
		}
		b = b[n:]
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
	if chmod {
		if err := unix.Fchmod(fd, want); err != nil {
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

// syncDirFd fsyncs an open directory: its O_PATH descriptor cannot be
// synced, "." opened from it can.
func syncDirFd(d *safepath.Dir) error {
	fd, err := unix.Openat(d.Fd(), ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", d.Path(), err)
	}
	defer unix.Close(fd)
	if err := unix.Fsync(fd); err != nil {
		return fmt.Errorf("sync dir %s: %w", d.Path(), err)
	}
	return nil
}

// syncDir fsyncs the directory at path, reached by a safe walk.
func syncDir(dir string) error {
	d, err := safepath.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	defer d.Close()
	return syncDirFd(d)
}

// dirSyncer collects directories whose renames must be made durable.
type dirSyncer struct {
	mu   sync.Mutex
	dirs map[string]struct{}
}

func (d *dirSyncer) add(dir string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dirs == nil {
		d.dirs = map[string]struct{}{}
	}
	d.dirs[dir] = struct{}{}
}

// flush fsyncs every collected directory once.
func (d *dirSyncer) flush() error {
	d.mu.Lock()
	dirs := d.dirs
	d.dirs = nil
	d.mu.Unlock()
	var first error
	for dir := range dirs {
		if err := syncDir(dir); err != nil && first == nil {
			first = err
		}
	}
	return first
}

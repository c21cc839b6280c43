package fleet

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/unit-os/unit/safepath"
	"golang.org/x/sys/unix"
)

// Key material on disk: the authority's keys and a node's. A directory
// of keys is its owner's alone (0700), each key file too (0600), never
// reached through a symlink: a key another user could read, or a link
// someone planted where a key is to be written, is refused rather than
// used.

// maxSecretFile bounds what is read as a key, creds or token record.
const maxSecretFile = 64 << 10

// SecureDir makes dir (0700) if it is missing and refuses it if it is a
// symlink, not a directory, not the caller's, or open to group or other.
func SecureDir(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		return fmt.Errorf("%s is a symlink; a key directory must be a real directory", dir)
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return fmt.Errorf("%s is not a directory", dir)
	case int(st.Uid) != os.Geteuid():
		return fmt.Errorf("%s belongs to uid %d, not to this process (uid %d)", dir, st.Uid, os.Geteuid())
	case st.Mode&0o077 != 0:
		return fmt.Errorf("%s has mode %04o; a key directory must be its owner's alone (chmod 700)", dir, st.Mode&0o7777)
	}
	return nil
}

// ReadSecret reads a key file: a regular file, not a symlink, not
// readable or writable by group or other, at most maxSecretFile bytes.
func ReadSecret(path string) ([]byte, error) { return readNoFollow(path, true) }

// ReadPublic reads a file that is no secret (a certificate, an account
// JWT) the same way, whatever its mode.
func ReadPublic(path string) ([]byte, error) { return readNoFollow(path, false) }

func readNoFollow(path string, secret bool) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return nil, fmt.Errorf("%s is a symlink; refused", path)
		}
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if secret && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s has mode %04o; a key must be readable by its owner only (chmod 600)", path, fi.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSecretFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxSecretFile)
	}
	return b, nil
}

// CreateSecret writes a new file at path (0600) only if none is there
// (safepath.CreateFile): a crash never leaves half a key, and two
// processes making the same key never both win. It returns an error
// wrapping os.ErrExist if path exists.
func CreateSecret(path string, data []byte) error {
	return safepath.CreateFile(path, data, 0o600, -1, -1)
}

// WriteSecret replaces path atomically with data (0600).
func WriteSecret(path string, data []byte) error {
	return safepath.WriteFile(path, data, 0o600, -1, -1)
}

// LockFile takes an exclusive flock on path (made 0600 if missing) and
// returns its release: one process at a time makes keys or spends
// tokens, whatever else runs beside it on the same directory.
func LockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil // closing the file drops the lock
}

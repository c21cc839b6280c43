package pkgbuild

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// filesDir is the store's pool of the deb kegs' regular files: each is a
// hard link to <store>/.files/<sha256>-<mode>, so a file that two packages
// or two versions ship is stored once. The name holds all that the links
// share: content and mode (owner and times are the same in every keg:
// the builder's, and the epoch normalize sets). A pool file no keg links
// (link count 1) is removed by GC.
const filesDir = ".files"

// pool links every regular file of the normalized keg tree dir (in a
// temp directory of its own, so not yet in the store; but its
// metadata) into store's pool, or, if the pool has it already, replaces
// the file with a link to the pool's. The directories it changed get
// epoch as their time again.
func pool(store, dir string, epoch int64) error {
	files := filepath.Join(store, filesDir)
	if err := os.MkdirAll(files, 0o755); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	touched := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || p == filepath.Join(dir, MetaName) {
			return err
		}
		key, err := poolKey(p)
		if err != nil {
			return err
		}
		shared := filepath.Join(files, key)
		err = os.Link(p, shared)
		if !errors.Is(err, fs.ErrExist) {
			return err // nil: the keg's file is now the pool's
		}
		if sameFile(p, shared) {
			return nil // a hard link of a file pooled already
		}
		// Beside dir: its parent is the build's own temp directory. (Not
		// onto a link of the same file: rename would do nothing then.)
		tmp := filepath.Join(filepath.Dir(dir), ".pool-link")
		if err := os.Link(shared, tmp); err != nil {
			return err
		}
		if err := os.Rename(tmp, p); err != nil {
			os.Remove(tmp)
			return err
		}
		touched[filepath.Dir(p)] = true
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: pool %s: %w", dir, err)
	}
	ts := []unix.Timespec{unix.NsecToTimespec(epoch * 1e9), unix.NsecToTimespec(epoch * 1e9)}
	for d := range touched {
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, d, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("store: pool %s: %w", d, err)
		}
	}
	return nil
}

// poolKey is a file's name in the pool: its sha256 and its mode bits.
func poolKey(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return fmt.Sprintf("%x-%04o", h.Sum(nil), st.Mode&0o7777), nil
}

// sweepPool removes the pool files no keg links any more. The caller
// holds the store's exclusive lock: no build is adding links meanwhile.
func sweepPool(store string) error {
	dir := filepath.Join(store, filesDir)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("gc: %w", err)
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return fmt.Errorf("gc: %w", err)
		}
		if st.Nlink == 1 {
			if err := os.Remove(p); err != nil {
				return fmt.Errorf("gc: %w", err)
			}
		}
	}
	return nil
}

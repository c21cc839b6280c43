package cm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// WriteFileAtomic replaces path with data so that a reader (or a crash) sees
// either the old file or the new one, never a mix: it writes a temp file in
// the same directory (rename is only atomic within one filesystem), sets
// owner and mode on the open file, fsyncs it, renames it over path and fsyncs
// the directory so the rename itself survives a power cut.
//
// mode is Go's os.FileMode: setuid is os.ModeSetuid, not 0o4000.
// uid or gid -1 leaves that id as the temp file got it. On any failure before
// the rename the temp file is removed and the old file is untouched.
func WriteFileAtomic(path string, data []byte, mode os.FileMode, uid, gid int) error {
	return writeFileAtomic(path, data, mode, uid, gid, nil)
}

// writeFileAtomic is WriteFileAtomic; with a dirSyncer the directory fsync
// is left to it, so a convergence that writes many files into one
// directory syncs the directory once. The temp file is still fsynced before
// the rename: that is what keeps a crash from exposing a torn file; the
// deferred directory sync only decides whether the rename itself survives.
func writeFileAtomic(path string, data []byte, mode os.FileMode, uid, gid int, ds *dirSyncer) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, tempPrefix(base)+"*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	renamed := false
	defer func() {
		if err != nil && !renamed {
			f.Close()
			os.Remove(tmp)
			err = fmt.Errorf("write %s: %w", path, err)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = fchownIfNeeded(f, uid, gid); err != nil {
		return err
	}
	// After the chown: chown clears setuid/setgid bits, so chmod must come last.
	if err = f.Chmod(mode); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	renamed = true
	if ds != nil {
		ds.add(dir)
		return nil
	}
	// The new content is in place from here on; a failed directory sync is
	// still reported, but there is no temp file left to clean up.
	if derr := syncDir(dir); derr != nil {
		return fmt.Errorf("write %s: %w", path, derr)
	}
	return nil
}

// fchownIfNeeded changes only ids that differ, so an unprivileged caller
// asking for its own ids does not fail with EPERM.
func fchownIfNeeded(f *os.File, uid, gid int) error {
	if uid < 0 && gid < 0 {
		return nil
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return errors.New("no stat_t")
	}
	if uid >= 0 && uint32(uid) == st.Uid {
		uid = -1
	}
	if gid >= 0 && uint32(gid) == st.Gid {
		gid = -1
	}
	if uid < 0 && gid < 0 {
		return nil
	}
	return f.Chown(uid, gid)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
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

package pkgbuild

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// applyInstall runs the recipe's install ops on the keg tree in out.
// Paths were checked to stay inside the keg when the recipe was parsed.
func applyInstall(r *Recipe, out string) error {
	for i, op := range r.Install {
		var err error
		switch {
		case op.Symlink != "":
			p := filepath.Join(out, op.Symlink)
			if err = os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
				err = os.Symlink(op.Target, p)
			}
		case op.Delete != "":
			p := filepath.Join(out, op.Delete)
			if _, err = os.Lstat(p); err == nil {
				err = os.RemoveAll(p)
			}
		case op.Rename != "":
			to := filepath.Join(out, op.To)
			if err = os.MkdirAll(filepath.Dir(to), 0o755); err == nil {
				err = os.Rename(filepath.Join(out, op.Rename), to)
			}
		case op.Chmod != "":
			m, _ := strconv.ParseUint(op.Mode, 8, 32)
			err = os.Chmod(filepath.Join(out, op.Chmod), fs.FileMode(m))
		}
		if err != nil {
			return r.errorf([]string{"install", strconv.Itoa(i)}, "install %d: %v", i+1, err)
		}
	}
	return nil
}

// normalize gives every entry of the keg the same mtime (epoch) and drops
// group/other write permission and set-id bits, so that a keg depends only
// on what was built, not on when or by whom.
func normalize(out string, epoch int64) error {
	var paths []string
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, p)
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		perm := info.Mode().Perm() &^ 0o022
		if d.IsDir() {
			perm |= 0o700
		}
		if p == out {
			perm = 0o755 // made by the builder: not its umask's
		}
		if info.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != perm {
			return os.Chmod(p, perm)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("normalize keg: %w", err)
	}
	ts := []unix.Timespec{unix.NsecToTimespec(epoch * 1e9), unix.NsecToTimespec(epoch * 1e9)}
	// Children first, so setting a file's time does not touch its directory's.
	for i := len(paths) - 1; i >= 0; i-- {
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, paths[i], ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("normalize keg: %s: %w", paths[i], err)
		}
	}
	return nil
}

// Digest maps every path in a keg to a hash of its type, permissions and
// contents (or link target): two kegs are the same build when their
// digests are equal. The metadata file is included.
func Digest(dir string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		h := sha256.New()
		fmt.Fprintf(h, "%v %d\x00", info.Mode(), info.ModTime().Unix())
		if err := hashBody(h, p, info); err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = hex.EncodeToString(h.Sum(nil))
		return nil
	})
	return out, err
}

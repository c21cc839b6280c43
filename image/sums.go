package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// sums remembers the SHA-256 of files by their stamp (device, inode,
// size, modification and change times, as git's index does): a warm build
// re-reads no file that has not changed since it was hashed. The change
// time cannot be set back without the clock, so a file rewritten in place,
// even with its old size and mtime, is hashed again.
type sums struct{ dir string }

// stamp is what changes when a file's bytes may have; "" for anything but
// a regular file.
func stamp(fi os.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || !fi.Mode().IsRegular() {
		return ""
	}
	return fmt.Sprintf("%d:%d:%d:%d.%d:%d.%d", st.Dev, st.Ino, st.Size, st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec)
}

func (s sums) record(path string) string {
	h := sha256.Sum256([]byte(path))
	return filepath.Join(s.dir, hex.EncodeToString(h[:16]))
}

// of is the SHA-256 and size of the regular file at path (a symlink is
// not followed: an error), from the record when its stamp still matches.
func (s sums) of(path string) (string, int64, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", 0, err
	}
	fi, err := os.Lstat(abs)
	if err != nil {
		return "", 0, err
	}
	st := stamp(fi)
	if st == "" {
		return "", 0, fmt.Errorf("%s: not a regular file", abs)
	}
	if rec, err := os.ReadFile(s.record(abs)); err == nil {
		f := strings.Fields(string(rec))
		if len(f) == 3 && f[0] == st && f[2] == abs && len(f[1]) == 64 {
			return f[1], fi.Size(), nil
		}
	}
	sum, size, err := fileSum(abs)
	if err != nil {
		return "", 0, err
	}
	s.note(abs, sum, fi)
	return sum, size, nil
}

// note records sum for the file at path as fi found it. A record that
// cannot be written only costs a re-read next time.
func (s sums) note(path, sum string, fi os.FileInfo) {
	if s.dir == "" || strings.ContainsAny(path, " \n") {
		return // one record is three fields on a line
	}
	st := stamp(fi)
	if st == "" || os.MkdirAll(s.dir, 0o755) != nil {
		return
	}
	_ = writeAtomic(s.record(path), []byte(st+" "+sum+" "+path+"\n"), 0o644)
}

// noteFile records sum for path as it is now.
func (s sums) noteFile(path, sum string) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return
	}
	if fi, err := os.Lstat(abs); err == nil {
		s.note(abs, sum, fi)
	}
}

// dpkgStatus is dpkg's database: its stamp changes whenever a package is
// installed, removed or upgraded.
const dpkgStatus = "/var/lib/dpkg/status"

// toolVersion is toolVersion (dpkg-query) remembered while dpkg's
// database is unchanged: a warm build starts no dpkg-query.
func (s sums) toolVersion(ctx context.Context, pkg string) string {
	fi, err := os.Stat(dpkgStatus)
	if err != nil || s.dir == "" {
		return toolVersion(ctx, pkg)
	}
	st := stamp(fi)
	rec := filepath.Join(s.dir, "dpkg-"+cacheName(pkg))
	if b, err := os.ReadFile(rec); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 && f[0] == st {
			return strings.TrimPrefix(f[1], "=")
		}
	}
	v := toolVersion(ctx, pkg)
	if os.MkdirAll(s.dir, 0o755) == nil && !strings.ContainsAny(v, " \n") {
		_ = writeAtomic(rec, []byte(st+" ="+v+"\n"), 0o644) // "=" keeps an empty version a field
	}
	return v
}

// sums are the build's stamped hashes, in the image cache.
func (in *inputs) sums() sums { return sums{dir: filepath.Join(in.cache, "image-sums")} }

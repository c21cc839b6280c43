package pkgbuild

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// resolveLocal hashes a directory of the repository: paths, types,
// permissions and contents, in a fixed order.
func resolveLocal(r *Recipe, s Source) (SourceID, error) {
	dir := filepath.Join(filepath.Dir(r.File), s.Local)
	sum, err := treeHash(dir)
	if err != nil {
		return SourceID{}, err
	}
	return SourceID{Kind: "local", Name: filepath.ToSlash(s.Local), Sum: sum}, nil
}

// treeHash is one hash over every entry under dir (WalkDir's lexical order).
func treeHash(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%o\x00", filepath.ToSlash(rel), info.Mode())
		if err := hashBody(h, p, info); err != nil {
			return err
		}
		h.Write([]byte{0})
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", dir, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashBody writes what an entry holds to h: a symlink's target or a
// regular file's contents (directories hold nothing of their own).
func hashBody(h io.Writer, p string, info fs.FileInfo) error {
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		t, err := os.Readlink(p)
		if err != nil {
			return err
		}
		_, err = io.WriteString(h, t)
		return err
	case info.Mode().IsRegular():
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(h, f)
		return err
	}
	return nil
}

// copyTree copies dir's contents into dst (created if needed), keeping
// permissions and symlinks.
func copyTree(dir, dst string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			// Modes as in the source, not as the builder's umask leaves them.
			if err := os.MkdirAll(to, info.Mode().Perm()|0o700); err != nil {
				return err
			}
			return os.Chmod(to, info.Mode().Perm()|0o700)
		case info.Mode()&fs.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(t, to)
		case info.Mode().IsRegular():
			return copyFile(p, to, info.Mode().Perm())
		}
		return fmt.Errorf("copy %s: unsupported file type %v", p, info.Mode().Type())
	})
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := out.Chmod(perm); err != nil { // not the builder's umask
		out.Close()
		return err
	}
	return out.Close()
}

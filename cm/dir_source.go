package cm

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// A dir with source mirrors a tree into itself: subdirectories are created
// and files get the source's bytes and permission bits (written atomically,
// like file resources). Entries only in the target stay unless
// purge_unmanaged says otherwise (top level only). Only the top levels of
// the source and the target are watched: a drift deeper in the tree is
// repaired on the next config change or apply.

func (r *dirRes) sourceRoot() (string, error) { return resolveSource(r.d.Source, r.pkg) }

// mirror copies (or, !apply, compares) the source tree into the dir.
func (r *dirRes) mirror(apply bool) ([]Delta, error) {
	root, err := r.sourceRoot()
	if err != nil {
		return nil, err
	}
	var what []Delta
	err = filepath.WalkDir(root, func(src string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, src)
		if err != nil || rel == "." {
			return err
		}
		dst := filepath.Join(r.d.Name, rel)
		info, err := de.Info()
		if err != nil {
			return err
		}
		ws, err := r.mirrorOne(src, dst, rel, info, apply)
		what = append(what, ws...)
		return err
	})
	if err != nil {
		return what, fmt.Errorf("source %s: %w", r.d.Source, err)
	}
	return what, nil
}

func (r *dirRes) mirrorOne(src, dst, rel string, info fs.FileInfo, apply bool) ([]Delta, error) {
	cur, err := os.Lstat(dst)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	mode := uint32(info.Mode().Perm())
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		mode = st.Mode & 0o7777
	}
	switch {
	case info.IsDir():
		if exists && cur.IsDir() {
			return nil, nil
		}
		if exists {
			return nil, fmt.Errorf("%s is not a directory", dst)
		}
		if apply {
			if err := os.Mkdir(dst, fileMode(mode)|os.ModeDir); err != nil {
				return nil, err
			}
		}
		return []Delta{Delta{Attr: "created " + rel + "/"}}, nil
	case info.Mode()&os.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return nil, err
		}
		ws, err := ensureLink(dst, target, false, apply)
		if len(ws) > 0 {
			return []Delta{delta("link "+rel, ws[0].Old, target)}, err
		}
		return nil, err
	case !info.Mode().IsRegular():
		return nil, nil // devices, fifos, sockets are not mirrored
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, err
	}
	var d Delta
	switch {
	case !exists:
		d = Delta{Attr: "created " + rel}
	case !cur.Mode().IsRegular():
		return nil, fmt.Errorf("%s is a %s, not a file", dst, describe(cur.Mode()))
	default:
		old, err := os.ReadFile(dst)
		if err != nil {
			return nil, err
		}
		st, _ := cur.Sys().(*syscall.Stat_t)
		if bytes.Equal(old, data) && st != nil && st.Mode&0o7777 == mode {
			return nil, nil
		}
		d = Delta{Attr: "updated " + rel}
	}
	if apply {
		if err := writeFileAtomic(dst, data, fileMode(mode), -1, -1, &r.env.dirs); err != nil {
			return nil, err
		}
	}
	return []Delta{d}, nil
}

// sourceNames lists the source's top-level entries: they are managed.
func (r *dirRes) sourceNames() map[string]bool {
	root, err := r.sourceRoot()
	if err != nil {
		return nil
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	out := make(map[string]bool, len(ents))
	for _, e := range ents {
		out[e.Name()] = true
	}
	return out
}

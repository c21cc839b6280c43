package cm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// A dir with source mirrors a tree into itself: subdirectories are created
// and files get the source's bytes and permission bits (written atomically,
// like file resources). Entries only in the target stay unless
// purge_unmanaged says otherwise (top level only). Only the top levels of
// the source and the target are watched: a drift deeper in the tree is
// repaired on the next config change or apply.

func (r *dirRes) sourceRoot() (string, error) { return resolveSource(r.d.Source, r.pkg) }

// mirror copies (or, !apply, compares) the source tree into the dir.
func (r *dirRes) mirror(ctx context.Context, apply bool) ([]Delta, error) {
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
		ws, err := r.mirrorOne(ctx, src, dst, rel, info, apply)
		what = append(what, ws...)
		return err
	})
	if err != nil {
		return what, fmt.Errorf("source %s: %w", r.d.Source, err)
	}
	return what, nil
}

func (r *dirRes) mirrorOne(ctx context.Context, src, dst, rel string, info fs.FileInfo, apply bool) ([]Delta, error) {
	mode := uint32(info.Mode().Perm())
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		mode = st.Mode & 0o7777
	}
	if info.Mode()&os.ModeSymlink != 0 {
		target, err := os.Readlink(src)
		if err != nil {
			return nil, err
		}
		ws, err := ensureLink(ctx, dst, target, false, apply)
		if len(ws) > 0 {
			return []Delta{delta("link "+rel, ws[0].Old, target)}, err
		}
		return nil, err
	}
	if !info.IsDir() && !info.Mode().IsRegular() {
		return nil, nil // devices, fifos, sockets are not mirrored
	}
	d, base, done, err := openParent(ctx, dst)
	if errors.Is(err, unix.ENOENT) && !apply {
		// A dry run over a tree not made yet: its parent is new too.
		if info.IsDir() {
			return []Delta{{Attr: "created " + rel + "/"}}, nil
		}
		return []Delta{{Attr: "created " + rel}}, nil
	}
	if err != nil {
		return nil, err
	}
	defer done()
	cur, exists, err := statAt(d, base)
	if err != nil {
		return nil, err
	}
	kind := cur.Mode & unix.S_IFMT
	if info.IsDir() {
		if exists && kind == unix.S_IFDIR {
			return nil, nil
		}
		if exists {
			return nil, fmt.Errorf("%s is not a directory", dst)
		}
		if apply {
			if err := unix.Mkdirat(d.Fd(), base, mode); err != nil {
				return nil, fmt.Errorf("mkdir %s: %w", dst, err)
			}
			// mkdir applies the umask; the source's bits are wanted.
			if err := setAttrsAt(d, base, unix.S_IFDIR, -1, -1, fileMode(mode)); err != nil {
				return nil, err
			}
		}
		return []Delta{{Attr: "created " + rel + "/"}}, nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, err
	}
	var dl Delta
	switch {
	case !exists:
		dl = Delta{Attr: "created " + rel}
	case kind != unix.S_IFREG:
		return nil, fmt.Errorf("%s is a %s, not a file", dst, unixType(cur.Mode))
	default:
		old, err := readAt(d, base, cur.Size)
		if err != nil {
			return nil, err
		}
		if bytes.Equal(old, data) && cur.Mode&0o7777 == mode {
			return nil, nil
		}
		dl = Delta{Attr: "updated " + rel}
	}
	if apply {
		if err := writeFileAt(d, base, data, fileMode(mode), -1, -1, &r.env.dirs); err != nil {
			return nil, err
		}
	}
	return []Delta{dl}, nil
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

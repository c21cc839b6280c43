package ldso

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"
)

// MaxHops bounds the symlinks followed while resolving one path, like the
// kernel's MAXSYMLINKS.
const MaxHops = 40

// ErrLoop is returned when resolving a path follows more than MaxHops links.
var ErrLoop = errors.New("too many levels of symbolic links")

// File is an open regular file of a view.
type File interface {
	io.ReaderAt
	io.Closer
}

// View is a root tree seen from inside. Every path passed to it is a clean
// absolute guest path whose directories are not symlinks (Resolve makes
// sure of that); a View never follows a symlink in the last component of
// Lstat or Readlink.
type View interface {
	Lstat(p string) (fs.FileInfo, error)
	Readlink(p string) (string, error)
	Open(p string) (File, error)
	// ReadDir lists the names in directory p, sorted.
	ReadDir(p string) ([]string, error)
}

// DirView is a View of a directory on disk. It is backed by an os.Root,
// so even a bug in the resolver cannot read outside the directory.
type DirView struct{ root *os.Root }

// OpenDir opens dir as a View. Close it when done.
func OpenDir(dir string) (*DirView, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open root %s: %w", dir, err)
	}
	return &DirView{root: r}, nil
}

// Close releases the root directory.
func (d *DirView) Close() error { return d.root.Close() }

func rel(p string) string {
	r := strings.TrimLeft(path.Clean("/"+p), "/")
	if r == "" {
		return "."
	}
	return r
}

// Lstat implements View.
func (d *DirView) Lstat(p string) (fs.FileInfo, error) { return d.root.Lstat(rel(p)) }

// Readlink implements View.
func (d *DirView) Readlink(p string) (string, error) { return d.root.Readlink(rel(p)) }

// Open implements View. It refuses anything but a regular file.
func (d *DirView) Open(p string) (File, error) {
	fi, err := d.root.Lstat(rel(p))
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("open %s: not a regular file", p)
	}
	return d.root.Open(rel(p))
}

// Entry is one guest path of a Tree: a host file (Host), a symlink (Link)
// or a file held in memory (Data, non-nil); directories are implied by the
// paths below them.
type Entry struct {
	Host string
	Link string
	Data []byte
}

// Tree is a View assembled from many places, e.g. keg directories: it maps
// clean absolute guest paths to host files or symlink targets. Build it
// with NewTree, which indexes the directories once so lookups stay cheap
// on trees of thousands of files.
type Tree struct {
	entries map[string]Entry
	dirs    map[string][]string // dir -> sorted child names
}

// NewTree checks and indexes entries: every key must be a clean absolute
// path other than "/", with exactly one of Host, Link or Data, and no file or
// link may have paths below it.
func NewTree(entries map[string]Entry) (*Tree, error) {
	t := &Tree{entries: make(map[string]Entry, len(entries)), dirs: map[string][]string{"/": nil}}
	children := map[string]map[string]bool{}
	for p, e := range entries {
		if p == "/" || !path.IsAbs(p) || path.Clean(p) != p {
			return nil, fmt.Errorf("tree path %q: not a clean absolute path", p)
		}
		if n := btoi(e.Host != "") + btoi(e.Link != "") + btoi(e.Data != nil); n != 1 {
			return nil, fmt.Errorf("tree path %s: want exactly one of a host file, a link target or data", p)
		}
		t.entries[p] = e
		for child := p; child != "/"; child = path.Dir(child) {
			dir := path.Dir(child)
			if children[dir] == nil {
				children[dir] = map[string]bool{}
			}
			children[dir][path.Base(child)] = true
		}
	}
	for dir, names := range children {
		if _, ok := t.entries[dir]; ok {
			return nil, fmt.Errorf("tree path %s: is a file or link but has paths below it", dir)
		}
		list := make([]string, 0, len(names))
		for n := range names {
			list = append(list, n)
		}
		sort.Strings(list)
		t.dirs[dir] = list
	}
	return t, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

type synthInfo struct {
	name string
	mode fs.FileMode
	size int64
}

func (s synthInfo) Name() string       { return s.name }
func (s synthInfo) Size() int64        { return s.size }
func (s synthInfo) Mode() fs.FileMode  { return s.mode }
func (s synthInfo) ModTime() time.Time { return time.Time{} }
func (s synthInfo) IsDir() bool        { return s.mode.IsDir() }
func (s synthInfo) Sys() any           { return nil }

// Lstat implements View.
func (t *Tree) Lstat(p string) (fs.FileInfo, error) {
	p = path.Clean("/" + p)
	if e, ok := t.entries[p]; ok {
		if e.Link != "" {
			return synthInfo{path.Base(p), fs.ModeSymlink | 0o777, 0}, nil
		}
		if e.Data != nil {
			return synthInfo{path.Base(p), 0o644, int64(len(e.Data))}, nil
		}
		fi, err := os.Lstat(e.Host)
		if err != nil {
			return nil, fmt.Errorf("%s (host %s): %w", p, e.Host, err)
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("%s: host file %s is not a regular file", p, e.Host)
		}
		return fi, nil
	}
	if _, ok := t.dirs[p]; ok {
		return synthInfo{path.Base(p), fs.ModeDir | 0o755, 0}, nil
	}
	return nil, &fs.PathError{Op: "lstat", Path: p, Err: fs.ErrNotExist}
}

// Readlink implements View.
func (t *Tree) Readlink(p string) (string, error) {
	e, ok := t.entries[path.Clean("/"+p)]
	if !ok || e.Link == "" {
		return "", &fs.PathError{Op: "readlink", Path: p, Err: fs.ErrInvalid}
	}
	return e.Link, nil
}

// Open implements View. The host file is opened without following a
// symlink, so a host path can not be swapped for a link to elsewhere.
func (t *Tree) Open(p string) (File, error) {
	p = path.Clean("/" + p)
	e, ok := t.entries[p]
	if !ok || e.Link != "" {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	if e.Data != nil {
		return memFile{bytes.NewReader(e.Data)}, nil
	}
	f, err := openNoFollow(e.Host)
	if err != nil {
		return nil, fmt.Errorf("open %s (host %s): %w", p, e.Host, err)
	}
	return f, nil
}

// memFile is an in-memory file of a Tree.
type memFile struct{ *bytes.Reader }

func (memFile) Close() error { return nil }

// ReadDir implements View.
func (t *Tree) ReadDir(p string) ([]string, error) {
	names, ok := t.dirs[path.Clean("/"+p)]
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: p, Err: fs.ErrNotExist}
	}
	return append([]string(nil), names...), nil
}

// Resolve resolves p inside v: it returns the guest path of the final
// non-symlink object and every symlink passed on the way (so an image can
// carry both the links and their target). Absolute link targets restart at
// the view's root; ".." at the root stays at the root.
func Resolve(v View, p string) (string, []string, error) {
	var links []string
	hops := 0
	cur := "/"
	rest := strings.Split(p, "/")
	for len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, c)
		fi, err := v.Lstat(next)
		if err != nil {
			return "", links, fmt.Errorf("resolve %s: %w", p, err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			if len(rest) > 0 && !fi.IsDir() && hasNonEmpty(rest) {
				return "", links, fmt.Errorf("resolve %s: %s: %w", p, next, fs.ErrNotExist)
			}
			cur = next
			continue
		}
		hops++
		if hops > MaxHops {
			return "", links, fmt.Errorf("resolve %s: %w", p, ErrLoop)
		}
		target, err := v.Readlink(next)
		if err != nil {
			return "", links, fmt.Errorf("resolve %s: %w", p, err)
		}
		links = append(links, next)
		if strings.HasPrefix(target, "/") {
			cur = "/"
		}
		rest = append(strings.Split(target, "/"), rest...)
	}
	return cur, links, nil
}

func hasNonEmpty(parts []string) bool {
	for _, s := range parts {
		if s != "" && s != "." {
			return true
		}
	}
	return false
}

// ReadDir implements View.
func (d *DirView) ReadDir(p string) ([]string, error) {
	f, err := d.root.Open(rel(p))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("read dir %s: %w", p, err)
	}
	sort.Strings(names)
	return names, nil
}

// glob matches pattern (wildcards in the last element only, as in
// ld.so.conf includes) inside v, sorted.
func glob(v View, pattern string) ([]string, error) {
	dir, base := path.Split(pattern)
	if strings.ContainsAny(dir, "*?[") {
		return nil, fmt.Errorf("wildcards are supported in the last element only")
	}
	if _, err := path.Match(base, ""); err != nil {
		return nil, err
	}
	real, _, err := Resolve(v, dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	names, err := v.ReadDir(real)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		if ok, _ := path.Match(base, n); ok {
			out = append(out, path.Join(real, n))
		}
	}
	return out, nil
}

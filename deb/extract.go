package deb

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// Bounds of one data archive: generous (the largest Debian packages hold
// a few GiB in tens of thousands of files), there to stop a hostile one.
const (
	MaxDataSize    = 8 << 30 // bytes of file contents
	MaxDataEntries = 1 << 20
)

// Extract writes the data archive into dst (created if missing), as
// dpkg-deb -x does as root, but against a hostile archive: every name is
// taken relative to dst, and one that is absolute, has a ".." step or goes
// through a symlink (or a non-directory) is refused, naming the member;
// a name given twice is refused unless both are directories (a file that
// was in dst before is replaced, as tar does: several archives may be
// unpacked into one directory, but never a directory); a hard link
// must name a regular file extracted before it. Device nodes and fifos are
// refused: Debian policy (10.6) forbids them in packages, and a keg has
// no use for them. Modes are the archive's (setuid, setgid and sticky
// included), symlink targets verbatim, and a directory gets its mode once
// its contents are in. Owners and times are not kept: files belong to the
// caller, and the store normalizes times. On error dst holds part of the
// archive, and nothing outside it was written.
func (p *Package) Extract(dst string) error {
	if err := p.extract(dst); err != nil {
		return fmt.Errorf("%s: %w", p.path, err)
	}
	return nil
}

// maxTrailer bounds what is read after the tar's end-of-archive marker:
// its padding to a record, and no more.
const maxTrailer = 1 << 20

func (p *Package) extract(dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	root, err := unix.Open(dst, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", dst, err)
	}
	defer unix.Close(root)
	r, err := p.tarball(p.data)
	if err != nil {
		return err
	}
	defer r.Close()
	x := &extractor{root: root, dirfd: -1, seen: map[string]byte{}}
	defer x.closeDir()
	tr := tar.NewReader(r)
	for n := 0; ; n++ {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", p.data.name, truncated(err))
		}
		if n >= MaxDataEntries {
			return fmt.Errorf("%s: more than %d entries", p.data.name, MaxDataEntries)
		}
		if err := x.entry(h, tr); err != nil {
			return fmt.Errorf("%s: member %q: %w", p.data.name, h.Name, err)
		}
	}
	// The rest of the stream is the tar's padding: read it, so that the
	// decompressor reaches its end and checks the stream's checksum (xz,
	// gzip and zstd check there), and a corrupt member fails here.
	if _, err := io.Copy(io.Discard, io.LimitReader(r, maxTrailer)); err != nil {
		return fmt.Errorf("%s: %w", p.data.name, truncated(err))
	}
	if err := r.Close(); err != nil {
		return fmt.Errorf("%s: %w", p.data.name, err)
	}
	// Deepest first, so a read-only directory is closed after its children.
	for i := len(x.dirs) - 1; i >= 0; i-- {
		d := x.dirs[i]
		if err := unix.Fchmodat(root, d.name, d.mode, 0); err != nil {
			return fmt.Errorf("chmod %s: %w", d.name, err)
		}
	}
	return nil
}

type dirMode struct {
	name string
	mode uint32
}

// extractor holds what one extraction has made so far.
type extractor struct {
	root  int
	total int64
	// seen is every name made, by type ('d', 'f', 'l' for symlink): a
	// name made twice is refused, and a hard link must name an 'f'.
	seen map[string]byte
	dirs []dirMode
	// dirfd is the directory of the last entry (dirname): archives list a
	// directory's files together, so most entries reuse it.
	dirfd   int
	dirname string
}

func (x *extractor) closeDir() {
	if x.dirfd >= 0 {
		unix.Close(x.dirfd)
		x.dirfd, x.dirname = -1, ""
	}
}

// clean makes a member name relative to dst, refusing one that is not.
func clean(name string) (string, error) {
	n := strings.TrimPrefix(name, "./")
	if n == "." || n == "" || n == "./" {
		return ".", nil
	}
	if strings.HasPrefix(n, "/") {
		return "", errors.New("absolute name")
	}
	for _, s := range strings.Split(strings.TrimSuffix(n, "/"), "/") {
		if s == ".." {
			return "", errors.New("name leaves the destination (..)")
		}
	}
	c := path.Clean(n)
	if c == "." || strings.HasPrefix(c, "../") {
		return "", errors.New("name leaves the destination")
	}
	return c, nil
}

// parent opens the directory that holds name, step by step with
// O_NOFOLLOW: a symlink or a file on the way is refused. A step missing
// is made (0755), as tar makes the parents an archive does not list.
func (x *extractor) parent(name string) (int, string, error) {
	dir, base := path.Split(name)
	dir = strings.TrimSuffix(dir, "/")
	if dir == x.dirname && x.dirfd >= 0 {
		return x.dirfd, base, nil
	}
	x.closeDir()
	fd, err := unix.Dup(x.root)
	if err != nil {
		return -1, "", err
	}
	if dir != "" {
		walked := ""
		for _, s := range strings.Split(dir, "/") {
			walked = path.Join(walked, s)
			next, err := unix.Openat(fd, s, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err == unix.ENOENT {
				if err = unix.Mkdirat(fd, s, 0o755); err == nil {
					x.seen[walked] = 'd'
					next, err = unix.Openat(fd, s, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
				}
			}
			unix.Close(fd)
			if err == unix.ELOOP || err == unix.ENOTDIR {
				return -1, "", fmt.Errorf("path goes through %s, which is not a directory (a symlink?)", walked)
			}
			if err != nil {
				return -1, "", fmt.Errorf("open %s: %w", walked, err)
			}
			fd = next
		}
	}
	x.dirfd, x.dirname = fd, dir
	return fd, base, nil
}

func (x *extractor) entry(h *tar.Header, r io.Reader) error {
	if h.Typeflag == tar.TypeXGlobalHeader {
		return nil // pax defaults, already applied by the reader
	}
	name, err := clean(h.Name)
	if err != nil {
		return err
	}
	mode := uint32(h.Mode) & 0o7777
	if name == "." {
		if h.Typeflag != tar.TypeDir {
			return errors.New("the destination itself is not a directory")
		}
		x.dirs = append(x.dirs, dirMode{".", mode})
		return nil
	}
	if t, dup := x.seen[name]; dup && !(t == 'd' && h.Typeflag == tar.TypeDir) {
		return errors.New("given twice")
	}
	dirfd, base, err := x.parent(name)
	if err != nil {
		return err
	}
	switch h.Typeflag {
	case tar.TypeDir:
		if _, made := x.seen[name]; !made {
			err := unix.Mkdirat(dirfd, base, 0o700)
			if err == unix.EEXIST && isDir(dirfd, base) {
				err = nil // there before this archive (another one's unpacked into dst)
			}
			if err != nil {
				return fmt.Errorf("mkdir: %w", err)
			}
		}
		x.seen[name] = 'd'
		x.dirs = append(x.dirs, dirMode{name, mode})
	case tar.TypeReg:
		if h.Size > MaxDataSize-x.total {
			return fmt.Errorf("contents over %d bytes in all", int64(MaxDataSize))
		}
		x.total += h.Size
		if err := replace(dirfd, base, func() error { return writeFile(dirfd, base, mode, h.Size, r) }); err != nil {
			return err
		}
		x.seen[name] = 'f'
	case tar.TypeSymlink:
		if h.Linkname == "" {
			return errors.New("symlink with no target")
		}
		if err := replace(dirfd, base, func() error { return unix.Symlinkat(h.Linkname, dirfd, base) }); err != nil {
			return fmt.Errorf("symlink: %w", err)
		}
		x.seen[name] = 'l'
	case tar.TypeLink:
		target, err := clean(h.Linkname)
		if err != nil {
			return fmt.Errorf("hard link to %q: %w", h.Linkname, err)
		}
		if x.seen[target] != 'f' {
			return fmt.Errorf("hard link to %q, not a file extracted before it", h.Linkname)
		}
		// target's own path was walked without symlinks when it was made,
		// and nothing made since can have replaced a step of it.
		if err := replace(dirfd, base, func() error { return unix.Linkat(x.root, target, dirfd, base, 0) }); err != nil {
			return fmt.Errorf("hard link: %w", err)
		}
		x.seen[name] = 'f'
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return errors.New("device node or fifo: Debian packages ship none (policy 10.6), and a keg takes none")
	default:
		return fmt.Errorf("tar entry type %q not supported", h.Typeflag)
	}
	return nil
}

// replace runs make, and once more after removing what is in the way if
// the name exists: a file there before this archive (dst may hold another
// archive's files), which tar replaces too. A directory is not removed.
func replace(dirfd int, base string, make func() error) error {
	err := make()
	if !errors.Is(err, unix.EEXIST) {
		return err
	}
	if err := unix.Unlinkat(dirfd, base, 0); err != nil {
		return fmt.Errorf("replace what is there: %w", err)
	}
	return make()
}

func isDir(dirfd int, base string) bool {
	var st unix.Stat_t
	return unix.Fstatat(dirfd, base, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR
}

// writeFile creates base in dirfd (it must not exist) with size bytes of
// r and mode.
func writeFile(dirfd int, base string, mode uint32, size int64, r io.Reader) error {
	fd, err := unix.Openat(dirfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	f := os.NewFile(uintptr(fd), base)
	defer f.Close()
	n, err := io.Copy(f, io.LimitReader(r, size))
	if err == nil && n < size {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	// After the write: setuid and setgid survive a chmod, not a write.
	if err := unix.Fchmod(int(f.Fd()), mode); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	return f.Close()
}

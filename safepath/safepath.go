// Package safepath reaches the directory that holds a managed path without
// following a link an unprivileged user could have planted on the way.
//
// unit runs as root and writes where a config points; a user who owns a
// directory on that path (/home/u/.ssh) can swap it for a symlink to
// /root/.ssh at any moment. Every step of the walk is opened relative to the
// previous one with O_NOFOLLOW, and the caller works on the final
// directory's descriptor (openat, renameat, unlinkat), so a swap after the
// walk moves nothing. A symlink on the way is followed only when the step
// to it and from it is safe as systemd's chase() with CHASE_SAFE judges it:
// a directory of an unprivileged user may only lead to what that user owns.
// Root's own links (/var/run -> /run, /lib -> usr/lib) resolve as before.
package safepath

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// maxHops bounds the symlinks one walk follows, as the kernel's 40.
const maxHops = 40

// Dir is a directory reached by a safe walk. Its descriptor is an O_PATH
// one: enough for *at calls, not for reading or syncing (see Open).
type Dir struct {
	fd   int
	path string      // the path asked for, for messages
	st   unix.Stat_t // its owner decides what a step below may lead to
}

// Fd is the directory's descriptor for *at system calls.
func (d *Dir) Fd() int { return d.fd }

// Path is the path the directory was opened by.
func (d *Dir) Path() string { return d.path }

// Uid is the directory's owner.
func (d *Dir) Uid() uint32 { return d.st.Uid }

// Gid is the directory's group.
func (d *Dir) Gid() uint32 { return d.st.Gid }

// Dup returns a second handle on the same directory, closed on its own.
func (d *Dir) Dup() (*Dir, error) {
	fd, err := unix.FcntlInt(uintptr(d.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("dup %s: %w", d.path, err)
	}
	return &Dir{fd: fd, path: d.path, st: d.st}, nil
}

// Dev and Ino identify the directory.
func (d *Dir) Dev() uint64 { return d.st.Dev }
func (d *Dir) Ino() uint64 { return d.st.Ino }

// Close releases the descriptor.
func (d *Dir) Close() error {
	if d == nil || d.fd < 0 {
		return nil
	}
	err := unix.Close(d.fd)
	d.fd = -1
	return err
}

type options struct {
	create   bool
	mode     uint32
	trusted  bool
	keepMode bool
}

// Option changes how a walk treats a missing step, or how a write sets a
// file's mode.
type Option func(*options)

func optionsOf(opts []Option) *options {
	var o options
	for _, f := range opts {
		f(&o)
	}
	return &o
}

// Trusted resolves the path as the kernel does, following every link, for
// a tool that writes where its own user points it (a build's output, its
// cache): there no other user's link crosses a privilege boundary, and a
// checkout owned by another uid (a CI container, sudo) must stay usable.
// The write itself keeps every other guarantee.
func Trusted() Option { return func(o *options) { o.trusted = true } }

// AsCreated leaves a written file with the mode open(2) gives it (mode's
// permission bits less the umask), without a chmod: for filesystems that
// refuse one (vfat, the ESP) and for callers that always honoured the
// umask.
func AsCreated() Option { return func(o *options) { o.keepMode = true } }

// createPerm is the mode a write's temp file is created with.
func (o *options) createPerm(mode os.FileMode) uint32 {
	if o.keepMode {
		return UnixMode(mode) & 0o777
	}
	return 0o600
}

// Create makes missing directories with mode (less the umask), owned by
// their parent's owner when that is not the caller, so a directory made in
// a user's home stays the user's.
func Create(mode uint32) Option {
	return func(o *options) { o.create, o.mode = true, mode }
}

// OpenParent walks to the directory that holds path and returns it with the
// last element's name, which the caller opens with *at calls and
// O_NOFOLLOW (or AT_SYMLINK_NOFOLLOW) itself.
func OpenParent(path string, opts ...Option) (*Dir, string, error) {
	if !filepath.IsAbs(path) {
		return nil, "", fmt.Errorf("%s: not an absolute path", path)
	}
	clean := filepath.Clean(path)
	if clean == "/" {
		return nil, "", fmt.Errorf("%s: the root has no parent", path)
	}
	dir, base := filepath.Split(clean)
	d, err := Open(dir, opts...)
	if err != nil {
		return nil, "", err
	}
	return d, base, nil
}

// Open walks to the directory path itself.
func Open(path string, opts ...Option) (*Dir, error) {
	o := optionsOf(opts)
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("%s: not an absolute path", path)
	}
	if o.trusted {
		return openTrusted(path, o)
	}
	w, err := newWalk(path)
	if err != nil {
		return nil, err
	}
	if err := w.run(o); err != nil {
		w.close()
		return nil, err
	}
	return &Dir{fd: w.fd, path: filepath.Clean(path), st: w.st}, nil
}

// openTrusted opens path as the kernel resolves it (see Trusted).
func openTrusted(path string, o *options) (*Dir, error) {
	if o.create {
		if err := os.MkdirAll(path, os.FileMode(o.mode)); err != nil {
			return nil, err
		}
	}
	fd, err := unix.Open(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	d := &Dir{fd: fd, path: filepath.Clean(path)}
	if err := unix.Fstat(fd, &d.st); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	return d, nil
}

// walk is one resolution: where it stands and what is left.
type walk struct {
	asked  string
	fd     int
	st     unix.Stat_t
	at     string // the path of fd as walked, for messages
	todo   []string
	rootSt unix.Stat_t
	hops   int
	// link is the relative symlink just followed: its owner, as well as
	// the directory's, judges the next step, so a user's link in root's
	// /tmp cannot lead to root's places.
	link   *unix.Stat_t
	linkAt string
	target string
}

func newWalk(path string) (*walk, error) {
	w := &walk{asked: path, fd: -1}
	if err := w.toRoot(); err != nil {
		return nil, err
	}
	w.rootSt = w.st
	w.todo = split(path)
	return w, nil
}

func split(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" && s != "." {
			out = append(out, s)
		}
	}
	return out
}

func (w *walk) close() {
	if w.fd >= 0 {
		unix.Close(w.fd)
		w.fd = -1
	}
}

func (w *walk) toRoot() error {
	fd, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return fmt.Errorf("stat /: %w", err)
	}
	w.close()
	w.fd, w.st, w.at = fd, st, "/"
	return nil
}

func (w *walk) run(o *options) error {
	for len(w.todo) > 0 {
		name := w.todo[0]
		w.todo = w.todo[1:]
		if name == ".." {
			if err := w.up(); err != nil {
				return err
			}
			continue
		}
		if err := w.step(name, o); err != nil {
			return err
		}
	}
	return nil
}

// up goes to the parent, judged as any other step.
func (w *walk) up() error {
	if w.at == "/" {
		return nil
	}
	fd, err := unix.Openat(w.fd, "..", unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s: open ..: %w", w.at, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return fmt.Errorf("%s: stat ..: %w", w.at, err)
	}
	parent := filepath.Dir(w.at)
	if err := w.judge(parent, &st); err != nil {
		unix.Close(fd)
		return err
	}
	unix.Close(w.fd)
	w.fd, w.st, w.at = fd, st, parent
	return nil
}

func (w *walk) step(name string, o *options) error {
	next := filepath.Join(w.at, name)
	fd, err := unix.Openat(w.fd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) && o.create {
		fd, err = w.mkdir(name, o.mode)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", next, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return fmt.Errorf("stat %s: %w", next, err)
	}
	if err := w.judge(next, &st); err != nil {
		unix.Close(fd)
		return err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		unix.Close(w.fd)
		w.fd, w.st, w.at = fd, st, next
		return nil
	case unix.S_IFLNK:
		defer unix.Close(fd)
		return w.follow(fd, next, &st)
	default:
		unix.Close(fd)
		return fmt.Errorf("%s: %w", next, unix.ENOTDIR)
	}
}

// judge refuses a step to what st describes at path when the directory the
// walk stands on, or the link that brought it here, may not lead there.
func (w *walk) judge(path string, st *unix.Stat_t) error {
	if unsafeStep(&w.st, st) {
		return &UnsafeError{Path: w.asked, From: w.at, FromUid: w.st.Uid, To: path, ToUid: st.Uid}
	}
	if l := w.link; l != nil {
		w.link = nil
		if unsafeStep(l, st) {
			return &UnsafeError{Path: w.asked, From: w.linkAt, FromUid: l.Uid, To: path, ToUid: st.Uid, Link: w.target}
		}
	}
	return nil
}

// follow puts a symlink's target in front of what is left. An absolute
// target restarts at the root, which only a link of root's may lead to.
func (w *walk) follow(fd int, at string, st *unix.Stat_t) error {
	w.hops++
	if w.hops > maxHops {
		return fmt.Errorf("%s: %w", w.asked, unix.ELOOP)
	}
	target, err := ReadlinkAt(fd, "")
	if err != nil {
		return fmt.Errorf("readlink %s: %w", at, err)
	}
	if strings.HasPrefix(target, "/") {
		if unsafeStep(st, &w.rootSt) {
			return &UnsafeError{Path: w.asked, From: at, FromUid: st.Uid, To: "/", ToUid: w.rootSt.Uid, Link: target}
		}
		if err := w.toRoot(); err != nil {
			return err
		}
	} else {
		l := *st
		w.link, w.linkAt, w.target = &l, at, target
	}
	w.todo = append(split(target), w.todo...)
	return nil
}

// ReadlinkAt reads the symlink name in dirfd ("" with an O_PATH
// descriptor of the link itself), whatever its length.
func ReadlinkAt(dirfd int, name string) (string, error) {
	for size := 256; size <= 1<<16; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
	return "", unix.ENAMETOOLONG
}

// mkdir makes a missing step and opens it; in a directory another user
// owns, the new directory is theirs.
func (w *walk) mkdir(name string, mode uint32) (int, error) {
	if err := unix.Mkdirat(w.fd, name, mode); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, err
	}
	fd, err := unix.Openat(w.fd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR && (st.Uid != w.st.Uid || st.Gid != w.st.Gid) && w.st.Uid != 0 {
		if err := unix.Fchownat(fd, "", int(w.st.Uid), int(w.st.Gid), unix.AT_EMPTY_PATH); err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("give to uid %d: %w", w.st.Uid, err)
		}
	}
	return fd, nil
}

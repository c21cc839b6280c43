package cm

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/safepath"
)

// tmpfileRes is a [tmpfile."PATH"]: a directory made and kept like a dir
// (mode, owner, group) whose entries are removed once all their times are
// older than age, as systemd-tmpfiles does for a "d" line with an age.
//
// There is no timer. The directory is watched (any change inside makes it
// dirty), so it is swept at boot, on a reload that changes it, on `unit
// apply`, and whenever something in it changes; a quiet directory keeps its
// old entries until its next change.
type tmpfileRes struct {
	t       config.Tmpfile
	dir     *dirRes         // the directory itself
	managed map[string]bool // base names in it that other resources manage
	env     *env
}

func newTmpfile(t *config.Tmpfile, b *builder) *tmpfileRes {
	d := config.Dir{Meta: t.Meta, Edges: t.Edges, Mode: t.Mode, Owner: t.Owner, Group: t.Group, Ensure: "present", DirMode: t.DirMode}
	return &tmpfileRes{t: *t, dir: &dirRes{d: d, env: b.env}, env: b.env}
}

func (r *tmpfileRes) ID() string                       { return "tmpfile:" + r.t.Name }
func (r *tmpfileRes) Notifies() []string               { return r.t.Notify }
func (r *tmpfileRes) Watches() []string                { return []string{r.t.Name} }
func (r *tmpfileRes) WatchDirs() []string              { return []string{r.t.Name} }
func (r *tmpfileRes) Path() string                     { return r.t.Name }
func (r *tmpfileRes) Owners() (user, group string)     { return r.t.Owner, r.t.Group }
func (r *tmpfileRes) SweepDir() string                 { return r.t.Name }
func (r *tmpfileRes) SetManaged(names map[string]bool) { r.managed = names }

func (r *tmpfileRes) Same(o Resource) bool {
	x, ok := o.(*tmpfileRes)
	return ok && reflect.DeepEqual(r.t, x.t) && reflect.DeepEqual(r.managed, x.managed)
}

func (r *tmpfileRes) Check(ctx context.Context) ([]Delta, error) { return r.run(ctx, false) }
func (r *tmpfileRes) Apply(ctx context.Context) ([]Delta, error) { return r.run(ctx, true) }

// Purge removes the directory if it is empty, as a dir's purge does.
func (r *tmpfileRes) Purge(ctx context.Context) ([]Delta, error) { return r.dir.Purge(ctx) }

func (r *tmpfileRes) run(ctx context.Context, apply bool) ([]Delta, error) {
	what, err := r.dir.run(ctx, apply)
	if err != nil {
		return what, err
	}
	swept, err := sweep(r.t.Name, r.env.clock().Add(-r.t.MaxAge), r.managed, apply)
	return append(what, swept...), err
}

// sweepDepth bounds how deep a sweep descends (as systemd-tmpfiles).
const sweepDepth = 256

// sweep removes (or, !apply, lists) the entries below dir whose times are
// all older than cutoff, as systemd-tmpfiles' age does: a file is young
// while its atime, mtime, ctime or birth time is at or after cutoff; a
// directory's ctime does not count (removing its entries changes it), and a
// directory goes only once it is empty. Symbolic links are removed, never
// followed; other file systems mounted below dir, entries with the sticky
// bit, devices and sockets are left alone, and so are the names directly in
// dir that keep lists. An entry that cannot be removed is in the error and
// the sweep goes on. A missing dir has nothing to sweep.
//
// Everything is done relative to open directories (openat with O_NOFOLLOW,
// unlinkat), so a path swapped for a symlink mid-sweep leads nowhere else;
// dir itself is reached by a safe walk (package safepath).
func sweep(dir string, cutoff time.Time, keep map[string]bool, apply bool) ([]Delta, error) {
	parent, base, err := safepath.OpenParent(dir)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sweep %s: %w", dir, err)
	}
	fd, err := openDirNoFollow(parent.Fd(), base)
	parent.Close()
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sweep %s: %w", dir, err)
	}
	defer unix.Close(fd)
	var st unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_TYPE, &st); err != nil {
		return nil, fmt.Errorf("sweep %s: %w", dir, err)
	}
	s := &sweepRun{root: dir, cutoff: cutoff.UnixNano(), apply: apply, devMajor: st.Dev_major, devMinor: st.Dev_minor}
	s.dir(fd, "", keep, sweepDepth)
	return s.what, errors.Join(s.errs...)
}

// sweepRun is one sweep's state.
type sweepRun struct {
	root               string
	cutoff             int64 // unix nanoseconds
	apply              bool
	devMajor, devMinor uint32 // the root's file system
	what               []Delta
	errs               []error
}

func (s *sweepRun) fail(rel string, err error) {
	s.errs = append(s.errs, fmt.Errorf("sweep %s: %w", filepath.Join(s.root, rel), err))
}

// dir sweeps the directory open at fd (rel below the root) and returns how
// many of its entries stay.
func (s *sweepRun) dir(fd int, rel string, keep map[string]bool, depth int) (kept int) {
	names, err := readDirNames(fd)
	if err != nil {
		s.fail(rel, err)
		return 1 // contents unknown: the directory stays
	}
	for _, name := range names {
		if keep[name] || safepath.IsTemp(name) || !s.entry(fd, rel, name, depth) {
			kept++
		}
	}
	return kept
}

// entry sweeps one entry of the directory open at fd; it reports whether
// the entry is gone (in a dry run: would be).
func (s *sweepRun) entry(fd int, rel, name string, depth int) bool {
	path := filepath.Join(rel, name)
	var st unix.Statx_t
	const mask = unix.STATX_TYPE | unix.STATX_MODE | unix.STATX_ATIME | unix.STATX_MTIME | unix.STATX_CTIME | unix.STATX_BTIME
	err := unix.Statx(fd, name, unix.AT_SYMLINK_NOFOLLOW|unix.AT_NO_AUTOMOUNT, mask, &st)
	if errors.Is(err, unix.ENOENT) {
		return true
	}
	if err != nil {
		s.fail(path, err)
		return false
	}
	mountRoot := st.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 && st.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0
	if mountRoot || st.Dev_major != s.devMajor || st.Dev_minor != s.devMinor {
		return false // another file system: not this sweep's
	}
	switch uint32(st.Mode) & unix.S_IFMT {
	case unix.S_IFDIR:
		return s.subdir(fd, path, name, &st, depth)
	case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFSOCK:
		return false
	}
	if uint32(st.Mode)&unix.S_ISVTX != 0 || s.young(&st, true) {
		return false
	}
	if s.apply {
		if err := unix.Unlinkat(fd, name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			s.fail(path, err)
			return false
		}
	}
	s.what = append(s.what, delta("swept", path, ""))
	return true
}

// subdir sweeps a directory entry's contents, then removes it if it is
// empty and old. A directory that stays gets back the times it had, so
// the sweep itself does not make it look young.
func (s *sweepRun) subdir(fd int, path, name string, st *unix.Statx_t, depth int) bool {
	if depth == 0 {
		s.fail(path, fmt.Errorf("more than %d levels deep", sweepDepth))
		return false
	}
	sub, err := openDirNoFollow(fd, name)
	switch {
	case errors.Is(err, unix.ENOENT):
		return true
	case errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR):
		return false // replaced meanwhile by something else: the next sweep sees it
	case err != nil:
		s.fail(path, err)
		return false
	}
	before := len(s.what)
	kept := s.dir(sub, path, nil, depth-1)
	unix.Close(sub)
	if kept == 0 && !s.young(st, false) {
		if !s.apply {
			s.what = append(s.what, delta("swept", path+"/", ""))
			return true
		}
		err := unix.Unlinkat(fd, name, unix.AT_REMOVEDIR)
		if err == nil || errors.Is(err, unix.ENOENT) {
			s.what = append(s.what, delta("swept", path+"/", ""))
			return true
		}
		if !errors.Is(err, unix.ENOTEMPTY) && !errors.Is(err, unix.EEXIST) {
			s.fail(path, err)
		}
	}
	if s.apply && len(s.what) > before {
		ts := []unix.Timespec{statxTimespec(st.Atime), statxTimespec(st.Mtime)}
		if err := unix.UtimesNanoAt(fd, name, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil && !errors.Is(err, unix.ENOENT) {
			s.fail(path, err)
		}
	}
	return false
}

// young reports whether any of the entry's times is at or after the
// cutoff; ctime counts for all but directories.
func (s *sweepRun) young(st *unix.Statx_t, withCtime bool) bool {
	at := func(bit uint32, t unix.StatxTimestamp) bool {
		return st.Mask&bit != 0 && unix.TimespecToNsec(statxTimespec(t)) >= s.cutoff
	}
	return at(unix.STATX_ATIME, st.Atime) || at(unix.STATX_MTIME, st.Mtime) || at(unix.STATX_BTIME, st.Btime) ||
		withCtime && at(unix.STATX_CTIME, st.Ctime)
}

func statxTimespec(t unix.StatxTimestamp) unix.Timespec {
	return unix.Timespec{Sec: t.Sec, Nsec: int64(t.Nsec)}
}

// openDirNoFollow opens the directory name relative to dirfd, refusing a
// symlink. O_NOATIME keeps the sweep from making directories look used;
// the kernel allows it only to their owner (or root), so without it when
// refused.
func openDirNoFollow(dirfd int, name string) (int, error) {
	const flags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := unix.Openat(dirfd, name, flags|unix.O_NOATIME, 0)
	if errors.Is(err, unix.EPERM) {
		fd, err = unix.Openat(dirfd, name, flags, 0)
	}
	return fd, err
}

// readDirNames lists the directory open at fd (without . and ..), sorted.
func readDirNames(fd int) ([]string, error) {
	buf := make([]byte, 16<<10)
	var names []string
	for {
		n, err := unix.Getdents(fd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			break
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
	slices.Sort(names)
	return names, nil
}

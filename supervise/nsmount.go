package supervise

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/mountinfo"
)

// mountNamespace makes the mounts of plan (namespace.go) in the
// trampoline, which the fork put in a mount namespace of its own and
// which is still root. First every mount becomes a slave, so nothing
// made here propagates back to the host (and the host's later mounts
// still reach the service); then the mounts, shallow first; last, each
// mount point is made read-only when the deepest path of the plan
// containing it says so (a read-write path under a read-only one keeps
// its own flags: it was bound onto itself).
func mountNamespace(plan []nsMount) error {
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make / a slave mount: %w", err)
	}
	// Bind sources are opened first: an earlier mount may cover them
	// (private_tmp's /var/tmp source lives under /tmp).
	src := make([]*os.File, len(plan))
	defer func() {
		for _, f := range src {
			if f != nil {
				f.Close()
			}
		}
	}()
	for i, m := range plan {
		if m.Kind != nsBind {
			continue
		}
		fd, err := unix.Open(m.Src, unix.O_PATH|unix.O_CLOEXEC, 0)
		switch {
		case err == nil:
			src[i] = os.NewFile(uintptr(fd), m.Src)
		case m.Optional && errors.Is(err, unix.ENOENT):
		default:
			return fmt.Errorf("%s: %s: %w", m.Key, m.Src, err)
		}
	}
	var done []nsMount
	for i, m := range plan {
		if m.Kind == nsBind && src[i] == nil {
			continue // optional, missing
		}
		ok, err := mountOne(m, src[i])
		if err != nil {
			return fmt.Errorf("%s: %s: %w", m.Key, m.Dst, err)
		}
		if ok {
			done = append(done, m)
		}
	}
	text, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	for p := range mountinfo.Points(string(text)) {
		var gov *nsMount
		for i := range done {
			if under(p, done[i].Dst) && (gov == nil || depth(done[i].Dst) >= depth(gov.Dst)) {
				gov = &done[i]
			}
		}
		if gov == nil || !gov.RO {
			continue
		}
		if err := remountRO(p); err != nil {
			return fmt.Errorf("%s: read-only %s: %w", gov.Key, p, err)
		}
	}
	return nil
}

// mountOne makes m (a bind from src, opened); false: it was optional and
// is missing.
func mountOne(m nsMount, src *os.File) (bool, error) {
	var fi fs.FileInfo
	var err error
	if src != nil {
		fi, err = src.Stat()
	} else {
		fi, err = os.Stat(m.Dst)
	}
	if err != nil {
		if m.Optional && errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	switch m.Kind {
	case nsKeep:
		return true, nil
	case nsSelf:
		if m.Dst == "/" {
			return true, nil // the namespace's root is a mount of its own
		}
		return true, unix.Mount(m.Dst, m.Dst, "", unix.MS_BIND|unix.MS_REC, "")
	case nsTmpfs, nsHide:
		if !fi.IsDir() {
			return false, errors.New("not a directory (unit hides directories only)")
		}
		mode := "mode=0755"
		if m.Kind == nsHide {
			mode = "mode=000"
		}
		return true, unix.Mount("tmpfs", m.Dst, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, mode+",size=4k")
	case nsBind:
		if err := mountPoint(m.Dst, fi.IsDir()); err != nil {
			return false, err
		}
		flags := uintptr(unix.MS_BIND | unix.MS_REC)
		if m.NoRec {
			flags = unix.MS_BIND
		}
		return true, unix.Mount(fmt.Sprintf("/proc/self/fd/%d", src.Fd()), m.Dst, "", flags, "")
	}
	return false, fmt.Errorf("unknown mount kind %q", m.Kind)
}

// mountPoint makes dst, as systemd does for a bind's missing target: a
// directory for a directory, an empty file for anything else.
func mountPoint(dst string, dir bool) error {
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	if dir {
		return os.MkdirAll(dst, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

func under(p, dir string) bool {
	return dir == "/" || p == dir || strings.HasPrefix(p, dir+"/")
}

// remountRO makes the mount at p read-only, keeping its other flags (a
// bind remount may not clear nosuid, nodev or noexec).
func remountRO(p string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(p, &st); err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EACCES) {
			return nil // under a mount that hides it
		}
		return err
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY)
	for _, f := range []struct {
		st uint64
		ms uintptr
	}{{unix.ST_NOSUID, unix.MS_NOSUID}, {unix.ST_NODEV, unix.MS_NODEV}, {unix.ST_NOEXEC, unix.MS_NOEXEC},
		{unix.ST_NOATIME, unix.MS_NOATIME}, {unix.ST_NODIRATIME, unix.MS_NODIRATIME}, {unix.ST_RELATIME, unix.MS_RELATIME}} {
		if uint64(st.Flags)&f.st != 0 {
			flags |= f.ms
		}
	}
	return unix.Mount("", p, "", flags, "")
}

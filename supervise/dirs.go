package supervise

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/safepath"
)

// serviceDir is one directory a service declares (dirs, systemd's
// RuntimeDirectory= and its siblings).
type serviceDir struct {
	kind, path string
	mode       uint32
}

// dirsOf lists cfg's directories under root ("" is /).
func dirsOf(root string, cfg *config.Service) []serviceDir {
	d := &cfg.Dirs
	var out []serviceDir
	for _, k := range []struct {
		kind, base string
		names      []string
		mode       string
	}{
		{"runtime", "/run", d.Runtime, d.RuntimeMode}, {"state", "/var/lib", d.State, d.StateMode},
		{"cache", "/var/cache", d.Cache, d.CacheMode}, {"logs", "/var/log", d.Logs, d.LogsMode},
	} {
		for _, n := range k.names {
			out = append(out, serviceDir{k.kind, filepath.Join(root, k.base, n), config.DirMode(k.mode)})
		}
	}
	return out
}

// dirsEnv is what systemd tells a service of its directories
// (RUNTIME_DIRECTORY=/run/a:/run/b and so on).
func dirsEnv(root string, cfg *config.Service) []string {
	byKind := map[string][]string{}
	var kinds []string
	for _, d := range dirsOf(root, cfg) {
		if byKind[d.kind] == nil {
			kinds = append(kinds, d.kind)
		}
		byKind[d.kind] = append(byKind[d.kind], d.path)
	}
	var env []string
	for _, k := range kinds {
		env = append(env, strings.ToUpper(k)+"_DIRECTORY="+strings.Join(byKind[k], ":"))
	}
	return env
}

// makeDirs makes v's directories before it starts, owned by its user and
// group with their mode; a missing parent is made root's, 0755.
func (s *Supervisor) makeDirs(v *service) error {
	dirs := dirsOf(s.dirsRoot, v.cfg)
	if len(dirs) == 0 {
		return nil
	}
	uid, gid := os.Getuid(), os.Getgid()
	cred, _, err := credential(v.cfg)
	if err != nil {
		return err
	}
	if cred != nil {
		uid, gid = int(cred.Uid), int(cred.Gid)
	}
	for _, d := range dirs {
		if err := makeServiceDir(d.path, d.mode, uid, gid); err != nil {
			return fmt.Errorf("dirs.%s %s: %w", d.kind, d.path, err)
		}
	}
	return nil
}

// makeServiceDir makes path (or takes it as it is) without following a
// symlink at it: a link there, planted by whoever could write the parent,
// would otherwise hand the service's owner and mode to its target.
func makeServiceDir(path string, mode uint32, uid, gid int) error {
	parent, err := safepath.Open(filepath.Dir(path), safepath.Create(0o755))
	if err != nil {
		return err
	}
	defer parent.Close()
	name := filepath.Base(path)
	if err := unix.Mkdirat(parent.Fd(), name, mode&0o777); err != nil && !errors.Is(err, unix.EEXIST) {
		return err
	}
	fd, err := unix.Openat(parent.Fd(), name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		var st unix.Stat_t
		if unix.Fstatat(parent.Fd(), name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return errors.New("a symlink is there; not followed")
		}
		return err
	}
	defer unix.Close(fd)
	if err := unix.Fchown(fd, uid, gid); err != nil {
		return fmt.Errorf("chown %d:%d: %w", uid, gid, err)
	}
	// After chown, which may clear set-id bits; mkdir's mode had the umask.
	if err := unix.Fchmod(fd, mode); err != nil {
		return fmt.Errorf("chmod %04o: %w", mode, err)
	}
	return nil
}

// removeRuntimeDirs removes the runtime directories once the service
// stopped, as systemd does (RuntimeDirectoryPreserve=no); the others are
// kept. RemoveAll does not follow symlinks below the directory.
func (s *Supervisor) removeRuntimeDirs(v *service, cfg *config.Service) {
	for _, d := range dirsOf(s.dirsRoot, cfg) {
		if d.kind != "runtime" {
			continue
		}
		if fi, err := os.Lstat(d.path); err != nil || !fi.IsDir() {
			continue // not made by us (a symlink refused at start): left alone
		}
		if err := os.RemoveAll(d.path); err != nil {
			s.log.Warn("remove runtime dir", "name", v.name, "path", d.path, "err", err)
		}
	}
}

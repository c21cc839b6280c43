package supervise

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/unit-os/unit/config"
)

// A service with a namespace key (config/service_ns.go) gets a mount
// namespace of its own: the fork clones one (CLONE_NEWNS), and the exec
// trampoline (execsetup.go), still root, makes the mounts of its nsPlan
// (nsmount.go) before it takes the service's credentials. The plan is made
// here, on the loop: what to mount, in which order, and what must exist.

// nsMount is one mount the trampoline makes, or one path whose mount
// flags the last pass sets (read-only or left writable).
type nsMount struct {
	Kind     string `json:"kind"` // nsBind, nsSelf, nsTmpfs, nsHide, nsKeep
	Src      string `json:"src,omitempty"`
	Dst      string `json:"dst"`
	RO       bool   `json:"ro,omitempty"`
	Optional bool   `json:"optional,omitempty"` // missing: skipped
	NoRec    bool   `json:"norec,omitempty"`    // a bind without its submounts
	Key      string `json:"key"`                // the config key, for messages
}

const (
	nsBind  = "bind"  // Src onto Dst
	nsSelf  = "self"  // Dst onto itself, so that its flags are its own
	nsTmpfs = "tmpfs" // an empty tmpfs (protect_home = "tmpfs")
	nsHide  = "hide"  // an empty tmpfs of mode 000 (inaccessible_paths)
	nsKeep  = "keep"  // nothing mounted; left as it is under a read-only parent
)

// nsPlan lists the mounts shallow first (a mount on /var/lib/x must come
// after one on /var).
func nsPlan(root, privateTmp string, cfg *config.Service) ([]nsMount, error) {
	var ms []nsMount
	add := func(key, kind, dst string, ro bool, optional bool) {
		dst, opt := config.NSPath(dst)
		ms = append(ms, nsMount{Kind: kind, Dst: dst, RO: ro, Optional: optional || opt, Key: key})
	}
	if privateTmp != "" {
		ms = append(ms, nsMount{Kind: nsBind, Src: filepath.Join(privateTmp, "tmp"), Dst: "/tmp", Key: "private_tmp"},
			nsMount{Kind: nsBind, Src: filepath.Join(privateTmp, "var-tmp"), Dst: "/var/tmp", Optional: true, Key: "private_tmp"})
	}
	switch ps := cfg.ProtectSystem; ps {
	case "yes", "full":
		for _, p := range []string{"/usr", "/boot", "/efi"} {
			add("protect_system", nsSelf, p, true, p != "/usr")
		}
		if ps == "full" {
			add("protect_system", nsSelf, "/etc", true, false)
		}
	case "strict":
		add("protect_system", nsSelf, "/", true, false)
		for _, p := range []string{"/dev", "/proc", "/sys"} {
			add("protect_system", nsKeep, p, false, true)
		}
		for _, d := range dirsOf(root, cfg) {
			add("dirs", nsSelf, d.path, false, false)
		}
	}
	for _, p := range []string{"/home", "/root", "/run/user"} {
		switch cfg.ProtectHome {
		case "yes":
			add("protect_home", nsHide, p, true, true)
		case "read-only":
			add("protect_home", nsSelf, p, true, true)
		case "tmpfs":
			add("protect_home", nsTmpfs, p, true, true)
		}
	}
	for _, p := range cfg.ReadOnlyPaths {
		add("read_only_paths", nsSelf, p, true, false)
	}
	for _, p := range cfg.ReadWritePaths {
		add("read_write_paths", nsSelf, p, false, false)
	}
	for _, p := range cfg.InaccessiblePaths {
		add("inaccessible_paths", nsHide, p, true, false)
	}
	for _, l := range []struct {
		key   string
		binds []string
		ro    bool
	}{{"bind_paths", cfg.BindPaths, false}, {"bind_read_only_paths", cfg.BindReadOnlyPaths, true}} {
		for _, b := range l.binds {
			v, err := config.ParseBind(b)
			if err != nil {
				return nil, fmt.Errorf("%s: %q: %w", l.key, b, err)
			}
			ms = append(ms, nsMount{Kind: nsBind, Src: v.Src, Dst: v.Dst, RO: l.ro, Optional: v.Optional, NoRec: !v.Recursive, Key: l.key})
		}
	}
	slices.SortStableFunc(ms, func(a, b nsMount) int { return depth(a.Dst) - depth(b.Dst) })
	// What the trampoline needs must be there: say so now, in the
	// service's status, rather than as its exit 127.
	for _, m := range ms {
		need := m.Dst
		if m.Kind == nsBind {
			need = m.Src
		}
		if m.Optional || m.Kind == nsKeep {
			continue
		}
		fi, err := os.Stat(need)
		switch {
		case err != nil:
			return nil, fmt.Errorf("%s: %w", m.Key, err)
		case m.Kind == nsHide && !fi.IsDir():
			return nil, fmt.Errorf("%s: %s: not a directory (unit hides directories only)", m.Key, need)
		}
	}
	return ms, nil
}

func depth(p string) int {
	if p == "/" {
		return 0
	}
	return strings.Count(p, "/")
}

// namespace is the plan of v's namespace, nil if it has none; it refuses
// (at the key) when unit cannot make one.
func (s *Supervisor) namespace(v *service) ([]nsMount, error) {
	cfg := v.cfg
	if !cfg.Namespaced() {
		return nil, nil
	}
	if uid := os.Geteuid(); uid != 0 {
		return nil, fmt.Errorf("%s: a mount namespace of the service's own needs unit to run as root, not uid %d", nsKey(cfg), uid)
	}
	if cfg.PrivateTmp && v.privateTmp == "" {
		if err := s.makePrivateTmp(v); err != nil {
			return nil, err
		}
	}
	return nsPlan(s.dirsRoot, v.privateTmp, cfg)
}

// nsKey is the first namespace key cfg sets, for messages.
func nsKey(cfg *config.Service) string {
	switch {
	case cfg.PrivateTmp:
		return "private_tmp"
	case cfg.ProtectSystem != "" && cfg.ProtectSystem != "no":
		return "protect_system"
	case cfg.ProtectHome != "" && cfg.ProtectHome != "no":
		return "protect_home"
	case len(cfg.ReadWritePaths) > 0:
		return "read_write_paths"
	case len(cfg.ReadOnlyPaths) > 0:
		return "read_only_paths"
	case len(cfg.InaccessiblePaths) > 0:
		return "inaccessible_paths"
	case len(cfg.BindPaths) > 0:
		return "bind_paths"
	}
	return "bind_read_only_paths"
}

// makePrivateTmp makes the directory whose tmp and var-tmp are the
// service's /tmp and /var/tmp, shared by its processes (exec_pre writes
// what exec reads) until it stops, as systemd's PrivateTmp= does. It is
// root's, 0700, under /tmp: no other user reaches into it.
func (s *Supervisor) makePrivateTmp(v *service) error {
	base := filepath.Join(s.dirsRoot, "/tmp")
	dir, err := os.MkdirTemp(base, "unit-private-"+strings.ReplaceAll(v.name, "/", "_")+"-")
	if err != nil {
		return fmt.Errorf("private_tmp: %w", err)
	}
	for _, d := range []string{"tmp", "var-tmp"} {
		p := filepath.Join(dir, d)
		if err := os.Mkdir(p, 0o700); err != nil {
			os.RemoveAll(dir)
			return fmt.Errorf("private_tmp: %w", err)
		}
		if err := os.Chmod(p, 0o777|fs.ModeSticky); err != nil {
			os.RemoveAll(dir)
			return fmt.Errorf("private_tmp: %w", err)
		}
	}
	v.privateTmp = dir
	return nil
}

// removePrivateTmp drops the service's /tmp once it stopped (RemoveAll
// follows no symlink the service left there).
func (s *Supervisor) removePrivateTmp(v *service) {
	if v.privateTmp == "" {
		return
	}
	if err := os.RemoveAll(v.privateTmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("remove private tmp", "name", v.name, "path", v.privateTmp, "err", err)
	}
	v.privateTmp = ""
}

package config

import (
	"fmt"
	"path/filepath"
	"strings"
)

// The namespace keys: a service with any of them runs (with its exec_pre,
// exec_post and exec_stop_post, but those with "+") in a mount namespace
// of its own, as systemd's PrivateTmp=, ProtectSystem= and kin do.
// Setting one up needs root: unit refuses to start such a service
// otherwise.

// Namespaced reports whether s asks for a mount namespace of its own.
func (s *Service) Namespaced() bool {
	return s.PrivateTmp || on(s.ProtectSystem) || on(s.ProtectHome) || len(s.ReadWritePaths) > 0 ||
		len(s.ReadOnlyPaths) > 0 || len(s.InaccessiblePaths) > 0 || len(s.BindPaths) > 0 || len(s.BindReadOnlyPaths) > 0
}

func on(v string) bool { return v != "" && v != "no" }

// NSPath is a path of read_write_paths, read_only_paths or
// inaccessible_paths: "-" in front lets it be missing.
func NSPath(p string) (path string, optional bool) {
	path, optional = strings.CutPrefix(p, "-")
	return path, optional
}

// Bind is one of bind_paths or bind_read_only_paths:
// "[-]SOURCE[:DEST[:rbind|norbind]]" (DEST is SOURCE when not given;
// recursive unless norbind; "-": a missing source is skipped).
type Bind struct {
	Src, Dst            string
	Optional, Recursive bool
}

// ParseBind reads a bind_paths entry.
func ParseBind(b string) (Bind, error) {
	v := Bind{Recursive: true}
	rest, opt := strings.CutPrefix(b, "-")
	v.Optional = opt
	f := strings.Split(rest, ":")
	if len(f) > 3 {
		return v, fmt.Errorf("expected [-]SOURCE[:DEST[:rbind|norbind]]")
	}
	v.Src, v.Dst = f[0], f[0]
	if len(f) > 1 {
		v.Dst = f[1]
	}
	if len(f) > 2 {
		switch f[2] {
		case "rbind", "":
		case "norbind":
			v.Recursive = false
		default:
			return v, fmt.Errorf("option %q: expected rbind or norbind", f[2])
		}
	}
	for _, p := range []string{v.Src, v.Dst} {
		if !cleanAbs(p) {
			return v, fmt.Errorf("%q: expected a clean absolute path", p)
		}
	}
	return v, nil
}

func cleanAbs(p string) bool { return filepath.IsAbs(p) && filepath.Clean(p) == p }

func validateServiceNS(s *Service, bad func(key, format string, args ...any)) {
	switch s.ProtectSystem {
	case "", "no", "yes", "full", "strict":
	default:
		bad("protect_system", "protect_system = %q: expected one of yes (/usr and /boot read-only), full (and /etc), strict (everything but /dev, /proc, /sys and the service's dirs), no", s.ProtectSystem)
	}
	switch s.ProtectHome {
	case "", "no", "yes", "read-only", "tmpfs":
	default:
		bad("protect_home", "protect_home = %q: expected one of yes (/home, /root, /run/user inaccessible), read-only, tmpfs (empty), no", s.ProtectHome)
	}
	for _, l := range []struct {
		key   string
		paths []string
	}{{"read_write_paths", s.ReadWritePaths}, {"read_only_paths", s.ReadOnlyPaths}, {"inaccessible_paths", s.InaccessiblePaths}} {
		for _, p := range l.paths {
			if q, _ := NSPath(p); !cleanAbs(q) || q == "/" && l.key == "inaccessible_paths" {
				bad(l.key, "%s: %q: expected a clean absolute path, \"-\" in front if it may be missing (e.g. \"-/var/lib/app\")", l.key, p)
			}
		}
	}
	for _, l := range []struct {
		key   string
		binds []string
	}{{"bind_paths", s.BindPaths}, {"bind_read_only_paths", s.BindReadOnlyPaths}} {
		for _, b := range l.binds {
			if _, err := ParseBind(b); err != nil {
				bad(l.key, "%s: %q: %v (e.g. \"-/dev/log:/var/lib/app/dev/log\")", l.key, b, err)
			}
		}
	}
}

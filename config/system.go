package config

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
)

func validateSystem(s *System, at func(key string) Pos) Errors {
	var errs Errors
	bad := complainer(&errs, at, "[system]")
	for _, key := range []string{"include", "exclude"} {
		list := s.Include
		if key == "exclude" {
			list = s.Exclude
		}
		for _, g := range list {
			if err := CheckPathGlob(g); err != nil {
				bad(key, "%s %q: %v", key, g, err)
			}
		}
	}
	if g := s.ControlGroup; g != "" && !isAccountName(g) && !isNumber(g) {
		bad("control_group", "control_group = %q: expected a group name or number", g)
	}
	if t := s.Trial.Duration; t != 0 && (t < 10*time.Second || t > 24*time.Hour) {
		bad("trial", "trial = %q: expected 10s to 24h (how long an update's first boot has to be ready), e.g. \"5m\"", t)
	}
	if z := s.SlotSize; z != 0 && z < 16<<20 {
		bad("slot_size", "slot_size = %d bytes: expected at least 16M, e.g. \"1G\"", int64(z))
	}
	switch s.Compression {
	case "", CompressionFast, CompressionRelease:
	default:
		bad("compression", "compression = %q: expected \"fast\" (default) or \"release\" (the smallest image)", s.Compression)
	}
	switch s.Console {
	case "", "none", "shell":
	default:
		bad("console", "console = %q: expected \"shell\" (a shell on the console) or \"none\"", s.Console)
	}
	return errs
}

// The [system] compression levels.
const (
	CompressionFast    = "fast"
	CompressionRelease = "release"
)

// ConsoleService is the service [system] console = "shell" adds.
const ConsoleService = "console"

// addConsole adds the console shell a system asks for.
func addConsole(c *Config) Errors {
	if c.System.Console != "shell" {
		return nil
	}
	if prev := c.Services[ConsoleService]; prev != nil {
		return Errors{{prev.Pos, fmt.Sprintf("service %q: [system] console = \"shell\" (at %s) defines it; rename this one", ConsoleService, c.System.Pos)}}
	}
	s := &Service{Exec: []string{"/bin/sh", "-l"}, TTY: "console", Restart: RestartAlways, Ready: "started", StopSignal: "SIGHUP",
		Env: map[string]string{"TERM": "linux", "HOME": "/root", "ENV": "/etc/profile"}, Dir: "/root"}
	s.Meta = Meta{Name: ConsoleService, Pos: c.System.Pos, kind: "service"}
	c.Services[ConsoleService] = s
	return nil
}

// CheckPathGlob says whether g is a usable guest path glob: absolute,
// clean, and valid for path.Match.
func CheckPathGlob(g string) error {
	if !strings.HasPrefix(g, "/") || path.Clean(g) != g || g == "/" {
		return errors.New("expected a clean absolute path pattern such as \"/usr/share/zoneinfo/UTC\" or \"/usr/lib/postgresql/*/lib/llvmjit*\"")
	}
	if _, err := path.Match(g, ""); err != nil {
		return fmt.Errorf("bad pattern: %w", err)
	}
	return nil
}

// MatchPathGlob reports whether guest path p, or a directory above it,
// matches g.
func MatchPathGlob(g, p string) bool {
	for q := p; q != "/" && q != "."; q = path.Dir(q) {
		if ok, _ := path.Match(g, q); ok {
			return true
		}
	}
	return false
}

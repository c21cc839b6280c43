package config

import (
	"path/filepath"
	"strconv"
	"strings"
)

// Kill modes (systemd's KillMode=).
const (
	KillControlGroup = "control-group"
	KillMixed        = "mixed"
	KillProcess      = "process"
)

// CommandPrefix splits systemd's prefixes off the first word of an
// exec_pre, exec_post or exec_stop_post command: "-" lets it fail, "+"
// runs it as root. It reports false for a prefix unit does not honour.
func CommandPrefix(word string) (prog string, mayFail, root, ok bool) {
	for word != "" {
		switch word[0] {
		case '-':
			if mayFail {
				return word, false, false, false
			}
			mayFail = true
		case '+':
			if root {
				return word, false, false, false
			}
			root = true
		case '@', ':', '!':
			return word, false, false, false
		default:
			return word, mayFail, root, true
		}
		word = word[1:]
	}
	return "", mayFail, root, true
}

// validateServiceUnit checks the keys a systemd unit file declares beyond
// exec (types.go): exec_pre/exec_post/exec_stop_post, pid_file,
// remain_after_exit, kill_mode and dirs.
func validateServiceUnit(s *Service, bad func(key, format string, args ...any)) {
	for _, c := range []struct {
		key  string
		cmds [][]string
	}{{"exec_pre", s.ExecPre}, {"exec_post", s.ExecPost}, {"exec_stop_post", s.ExecStopPost}} {
		key := c.key
		for i, cmd := range c.cmds {
			at := key + "\x00" + strconv.Itoa(i)
			if len(cmd) == 0 {
				bad(key, "%s[%d] is empty: expected a command as a list, e.g. [\"-/usr/bin/setup\", \"--check\"]", key, i)
				continue
			}
			prog, _, _, ok := CommandPrefix(cmd[0])
			switch {
			case !ok:
				bad(at, "%s[%d]: %q: expected the program's path, optionally prefixed by \"-\" (may fail) and \"+\" (runs as root)", key, i, cmd[0])
			case !filepath.IsAbs(prog) && !(s.Expand && strings.HasPrefix(prog, "$")):
				bad(at, "%s[%d]: %q: expected an absolute program path after the prefixes", key, i, prog)
			}
		}
	}
	if s.Ready == "forking" {
		if s.PIDFile == "" {
			bad("ready", "ready = \"forking\" needs pid_file = \"/run/NAME.pid\" (the main process's pid)")
		}
		if s.Oneshot {
			bad("ready", "ready = \"forking\": a oneshot service is ready when it exits 0; remove ready")
		}
	}
	if s.PIDFile != "" {
		switch {
		case s.Ready != "forking":
			bad("pid_file", "pid_file needs ready = \"forking\" (the started process forks and exits 0)")
		case !filepath.IsAbs(s.PIDFile) || filepath.Clean(s.PIDFile) != s.PIDFile:
			bad("pid_file", "pid_file = %q: expected a clean absolute path", s.PIDFile)
		}
	}
	if s.RemainAfterExit && !s.Oneshot {
		bad("remain_after_exit", "remain_after_exit needs oneshot = true")
	}
	switch s.KillMode {
	case "", KillControlGroup, KillMixed, KillProcess:
	default:
		bad("kill_mode", "kill_mode = %q: expected one of control-group, mixed, process", s.KillMode)
	}
	d := &s.Dirs
	for _, k := range []struct {
		key   string
		names []string
		mode  string
	}{{"runtime", d.Runtime, d.RuntimeMode}, {"state", d.State, d.StateMode}, {"cache", d.Cache, d.CacheMode}, {"logs", d.Logs, d.LogsMode}} {
		for _, n := range k.names {
			if n == "" || filepath.IsAbs(n) || filepath.Clean(n) != n || n == "." || n == ".." || strings.HasPrefix(n, "../") {
				bad("dirs\x00"+k.key, "dirs.%s: %q: expected a clean relative name without \"..\" (e.g. \"haproxy\")", k.key, n)
			}
		}
		if k.mode != "" {
			if m, err := strconv.ParseUint(k.mode, 8, 32); err != nil || m > 0o7777 {
				bad("dirs\x00"+k.key+"_mode", "dirs.%s_mode = %q: expected an octal mode such as \"0755\"", k.key, k.mode)
			}
		}
	}
}

// DirMode is a dirs mode parsed ("0755" when unset).
func DirMode(mode string) uint32 {
	if m, err := strconv.ParseUint(mode, 8, 32); err == nil && mode != "" && m <= 0o7777 {
		return uint32(m)
	}
	return 0o755
}

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

// Prefixes are systemd's prefixes on the first word of exec (all but
// "-") or of an exec_pre, exec_post or exec_stop_post command, in any
// order, each at most once, and at most one of "+", "!" and "!!".
type Prefixes struct {
	Prog     string // the program, after the prefixes
	MayFail  bool   // "-": its failure is logged, not fatal
	Argv0    bool   // "@": the second word is argv[0]
	NoExpand bool   // ":": no $VAR expansion in this command
	Root     bool   // "+": as root, outside the service's namespace
	NoSetuid bool   // "!": as root (user, group and groups not applied), in its namespace
	// "!!" is "!" where ambient capabilities are missing: unit sets them,
	// so the command runs as the service's user (AmbientRoot is kept to
	// say so, it changes nothing).
	AmbientRoot bool
}

// CommandPrefix splits systemd's prefixes off the first word of a
// command. It reports false for a prefix repeated or "+"/"!" combined.
func CommandPrefix(word string) (Prefixes, bool) {
	var p Prefixes
	for word != "" {
		switch {
		case word[0] == '-' && !p.MayFail:
			p.MayFail = true
		case word[0] == '@' && !p.Argv0:
			p.Argv0 = true
		case word[0] == ':' && !p.NoExpand:
			p.NoExpand = true
		case word[0] == '+' && !p.Root && !p.NoSetuid && !p.AmbientRoot:
			p.Root = true
		case strings.HasPrefix(word, "!!") && !p.Root && !p.NoSetuid && !p.AmbientRoot:
			p.AmbientRoot = true
			word = word[1:]
		case word[0] == '!' && !p.Root && !p.NoSetuid && !p.AmbientRoot:
			p.NoSetuid = true
		case strings.IndexByte("-@:+!", word[0]) >= 0:
			return Prefixes{Prog: word}, false
		default:
			p.Prog = word
			return p, true
		}
		word = word[1:]
	}
	return p, true
}

// validateServiceUnit checks the keys a systemd unit file declares beyond
// exec (types.go): exec's prefixes, exec_pre/exec_post/exec_stop_post,
// pid_file, remain_after_exit, kill_mode and dirs.
func validateServiceUnit(s *Service, bad func(key, format string, args ...any)) {
	if len(s.Exec) > 0 && s.Exec[0] != "" {
		p, ok := CommandPrefix(s.Exec[0])
		switch {
		case !ok || p.Prog == "":
			bad("exec", "exec: %q: expected the program after systemd's prefixes, each at most once: \"@\" (the next word is argv[0]), \":\" (no $VAR expansion), and one of \"+\" (as root, no sandbox), \"!\" (as root) or \"!!\"", s.Exec[0])
		case p.MayFail:
			// systemd's "-" on ExecStart= makes any exit a success; unit
			// counts the exit (restart = "on-failure" restarts it).
			bad("exec", "exec: %q: \"-\" is for exec_pre, exec_post and exec_stop_post only: the main command's exit status counts (use restart = \"always\" or \"never\")", s.Exec[0])
		case p.Argv0 && len(s.Exec) < 2:
			bad("exec", "exec: %q: \"@\" needs argv[0] as the second word, e.g. [\"@/usr/sbin/daemon\", \"daemon\"]", s.Exec[0])
		}
	}
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
			p, ok := CommandPrefix(cmd[0])
			switch {
			case !ok:
				bad(at, "%s[%d]: %q: expected the program's path after systemd's prefixes, each at most once: \"-\" (may fail), \"@\" (the next word is argv[0]), \":\" (no $VAR expansion), and one of \"+\" (as root, no sandbox), \"!\" (as root) or \"!!\"", key, i, cmd[0])
			case !filepath.IsAbs(p.Prog) && !(s.Expand && !p.NoExpand && strings.HasPrefix(p.Prog, "$")):
				bad(at, "%s[%d]: %q: expected an absolute program path after the prefixes", key, i, p.Prog)
			case p.Argv0 && len(cmd) < 2:
				bad(at, "%s[%d]: %q: \"@\" needs argv[0] as the second word, e.g. [\"@/usr/sbin/daemon\", \"daemon\"]", key, i, cmd[0])
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

package translate

import (
	"strings"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/systemd/unitfile"
)

// cmd is a command with the key that gave it.
type cmd struct {
	key string
	unitfile.Command
}

func cmds(key string, cs []unitfile.Command) []cmd {
	out := make([]cmd, len(cs))
	for i, c := range cs {
		out[i] = cmd{key, c}
	}
	return out
}

// exec: ExecStart (a oneshot's all but last become exec_pre, run in
// order before it, as systemd runs them), ExecStartPre/Post, ExecStopPost.
func (b *builder) exec(u *unitfile.Service, oneshot bool) error {
	if len(u.ExecStart) == 0 {
		return config.Errors{{Pos: b.s.Pos, Msg: u.Name.Full + ": no ExecStart=: nothing to run"}}
	}
	main := cmd{"ExecStart", u.ExecStart[len(u.ExecStart)-1]}
	pre := cmds("ExecStartPre", u.ExecStartPre)
	if len(u.ExecStart) > 1 {
		if oneshot {
			pre = append(pre, cmds("ExecStart", u.ExecStart[:len(u.ExecStart)-1])...)
		} else {
			for _, c := range u.ExecStart[1:] {
				b.note(c.Pos, "ExecStart", "more than one command is for Type=oneshot only: %s is not run", c.Path)
			}
			main = cmd{"ExecStart", u.ExecStart[0]}
		}
	}
	// exec keeps the prefixes as the control commands do ("!": chronyd
	// starts as root and drops to User= itself), but "-", which config
	// refuses on exec.
	if main.IgnoreFailure {
		b.note(main.Pos, "ExecStart", `"-": the exit status counts (restart = "on-failure" restarts it)`)
		main.IgnoreFailure = false
	}
	b.s.Exec = controlArgv(main.Command)
	b.at("exec", main.Pos)
	post, stopPost := cmds("ExecStartPost", u.ExecStartPost), cmds("ExecStopPost", u.ExecStopPost)
	for _, l := range []struct {
		key  string
		cmds []cmd
		dst  *[][]string
	}{{"exec_pre", pre, &b.s.ExecPre}, {"exec_post", post, &b.s.ExecPost}, {"exec_stop_post", stopPost, &b.s.ExecStopPost}} {
		for i, c := range l.cmds {
			*l.dst = append(*l.dst, controlArgv(c.Command))
			if i == 0 {
				b.at(l.key, c.Pos)
			}
		}
	}
	all := append(append(append([]cmd{main}, pre...), post...), stopPost...)
	for _, c := range all {
		if !c.NoEnvExpand && hasVar(c.Argv) {
			b.s.Expand = true
			b.at("expand", c.Pos)
			break
		}
	}
	return nil
}

// controlArgv is an ExecStart=, ExecStartPre=, ExecStartPost= or
// ExecStopPost= command with its prefixes kept on the program
// (config.Prefixes): "@"'s argv[0] is the second word.
func controlArgv(c unitfile.Command) []string {
	pre := ""
	for _, p := range []struct {
		on bool
		s  string
	}{{c.IgnoreFailure, "-"}, {c.SeparateArgv0, "@"}, {c.NoEnvExpand, ":"}, {c.Privileged, "+"}, {c.NoSetuid, "!"}, {c.AmbientMagic, "!!"}} {
		if p.on {
			pre += p.s
		}
	}
	args := c.Argv[1:] // Argv[0] is the program, or "@"'s argv[0], kept
	if c.SeparateArgv0 {
		args = c.Argv
	}
	return append([]string{pre + c.Path}, args...)
}

func hasVar(argv []string) bool {
	for _, a := range argv {
		if strings.Contains(a, "$") {
			return true
		}
	}
	return false
}

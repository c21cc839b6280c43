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
	b.s.Exec = b.argv(main)
	b.at("exec", main.Pos)
	if main.IgnoreFailure {
		b.note(main.Pos, "ExecStart", `"-": the exit status counts (restart = "on-failure" restarts it)`)
	}
	if (main.Privileged || main.NoSetuid) && u.User.Set() {
		b.note(main.Pos, "ExecStart", `"+" or "!": the main command runs as User=%s, not as root`, u.User.V)
	}
	post, stopPost := cmds("ExecStartPost", u.ExecStartPost), cmds("ExecStopPost", u.ExecStopPost)
	for _, l := range []struct {
		key  string
		cmds []cmd
		dst  *[][]string
	}{{"exec_pre", pre, &b.s.ExecPre}, {"exec_post", post, &b.s.ExecPost}, {"exec_stop_post", stopPost, &b.s.ExecStopPost}} {
		for i, c := range l.cmds {
			argv := b.argv(c)
			if c.Privileged || c.NoSetuid { // "!" is "+" where nothing is sandboxed
				argv[0] = "+" + argv[0]
			}
			if c.IgnoreFailure {
				argv[0] = "-" + argv[0]
			}
			*l.dst = append(*l.dst, argv)
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
	for _, c := range all {
		if c.NoEnvExpand && b.s.Expand && hasVar(c.Argv) {
			b.note(c.Pos, c.key, `":": $ is expanded in every command of a service that expands in one`)
		}
	}
	return nil
}

func hasVar(argv []string) bool {
	for _, a := range argv {
		if strings.Contains(a, "$") {
			return true
		}
	}
	return false
}

// argv is a command's argument vector, the program's path first; "@"'s
// separate argv[0] cannot be given.
func (b *builder) argv(c cmd) []string {
	if c.SeparateArgv0 {
		b.note(c.Pos, c.key, `"@": argv[0] %q is not given: %s runs under its own name`, c.Argv[0], c.Path)
	}
	return append([]string{c.Path}, c.Argv[1:]...)
}

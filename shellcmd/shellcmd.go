// Package shellcmd finds, without running it, the commands a shell
// script calls: the literal first word of every simple command, in
// functions, conditions, loops, pipelines and $(…) alike, less the
// shell's builtins and the script's own functions. A command computed at
// run time ("$prog", $(which x)) cannot be found and is not listed.
package shellcmd

import (
	"bytes"
	"fmt"

	"mvdan.cc/sh/v3/syntax"
)

// Command is one command name a script calls, at its first line.
type Command struct {
	Name string
	Line int
	// Probe: only asked for (command -v NAME), so the script works
	// without it.
	Probe bool
}

// MaxScript bounds what is parsed: a script is a package's file.
const MaxScript = 1 << 20

// builtins are the commands of sh, dash, bash and busybox ash that are
// no file.
var builtins = map[string]bool{}

func init() {
	for _, b := range []string{".", ":", "[", "[[", "alias", "bg", "bind", "break", "builtin", "caller", "cd",
		"command", "compgen", "complete", "continue", "declare", "dirs", "disown", "echo", "enable", "eval",
		"exec", "exit", "export", "false", "fc", "fg", "getopts", "hash", "help", "history", "jobs", "kill",
		"let", "local", "logout", "mapfile", "popd", "printf", "pushd", "pwd", "read", "readarray", "readonly",
		"return", "set", "shift", "shopt", "source", "suspend", "test", "times", "trap", "true", "type",
		"typeset", "ulimit", "umask", "unalias", "unset", "wait"} {
		builtins[b] = true
	}
}

// Commands parses src (name is for errors) as POSIX sh, else bash, and
// lists the commands it calls, each name once, in order of first use.
func Commands(name string, src []byte) ([]Command, error) {
	if len(src) > MaxScript {
		return nil, fmt.Errorf("%s: %d bytes, more than %d", name, len(src), MaxScript)
	}
	f, err := syntax.NewParser(syntax.Variant(syntax.LangPOSIX)).Parse(bytes.NewReader(src), name)
	if err != nil {
		var err2 error
		if f, err2 = syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(bytes.NewReader(src), name); err2 != nil {
			return nil, fmt.Errorf("parse %w", err)
		}
	}
	funcs := map[string]bool{}
	syntax.Walk(f, func(n syntax.Node) bool {
		if fd, ok := n.(*syntax.FuncDecl); ok {
			funcs[fd.Name.Value] = true
		}
		return true
	})
	var out []Command
	seen := map[string]int{} // name → index in out
	add := func(w *syntax.Word, probe bool) {
		n := w.Lit()
		if n == "" || builtins[n] || funcs[n] {
			return
		}
		if i, ok := seen[n]; ok {
			out[i].Probe = out[i].Probe && probe
			return
		}
		seen[n] = len(out)
		out = append(out, Command{Name: n, Line: int(w.Pos().Line()), Probe: probe})
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		call, ok := n.(*syntax.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		args := call.Args
		// exec NAME, command NAME, command -v NAME: the word after.
		for len(args) > 1 && (args[0].Lit() == "exec" || args[0].Lit() == "command") {
			probe := false
			if args[0].Lit() == "command" {
				for len(args) > 1 && (args[1].Lit() == "-v" || args[1].Lit() == "-V" || args[1].Lit() == "-p") {
					probe = probe || args[1].Lit() != "-p"
					args = args[1:]
				}
			}
			args = args[1:]
			if probe {
				add(args[0], true)
				return true
			}
		}
		add(args[0], false)
		return true
	})
	return out, nil
}

package maintscript

import (
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// ignored are commands with nothing to reproduce in an image: init
// system glue (unit supervises from the unit file), debconf, dpkg's own
// bookkeeping, and what tmpfiles.d / sysusers.d declare (read from those
// files instead).
var ignored = map[string]bool{
	"set": true, "echo": true, "printf": true, "true": true, ":": true, "exit": true, "return": true,
	"deb-systemd-helper": true, "deb-systemd-invoke": true, "invoke-rc.d": true, "update-rc.d": true,
	"systemctl": true, "dpkg-maintscript-helper": true, "dpkg-trigger": true, "ldconfig": true,
	"systemd-tmpfiles": true, "systemd-sysusers": true, ".": true, "shift": true, "unset": true,
	"ucfr":  true, // ucf's registry of which package owns a file
	"umask": true, "trap": true, "cd": true,
}

// actions are the commands whose effect unit reproduces.
var actions = map[string]bool{
	"adduser": true, "addgroup": true, "useradd": true, "groupadd": true, "usermod": true, "gpasswd": true,
	"chown": true, "chgrp": true, "chmod": true, "install": true, "mkdir": true, "dpkg-statoverride": true,
	"ucf": true, "cp": true, "ln": true,
}

func (w *walker) call(c *syntax.CallExpr, depth int, cond bool) tri {
	if len(c.Args) == 0 {
		for _, a := range c.Assigns {
			w.assign(a)
		}
		return yes
	}
	name, ok := w.word(c.Args[0])
	if !ok {
		if !cond {
			w.skip(c, "a command computed at run time")
		}
		return unknown
	}
	args, ok := w.fields(c.Args[1:])
	if body := w.funcs[name]; body != nil {
		return w.function(body, args, ok, depth, cond)
	}
	if st, decided := question(name, args, ok); decided {
		return st
	}
	if cond && !actions[name] {
		return unknown
	}
	if ignored[name] || strings.HasPrefix(name, "db_") {
		return yes
	}
	if !ok {
		w.skip(c, "arguments computed at run time")
		return unknown
	}
	at := w.pos(c)
	var why string
	switch name {
	case "adduser":
		why = w.adduser(at, args)
	case "addgroup":
		why = w.addgroup(at, args)
	case "useradd":
		why = w.useradd(at, args)
	case "groupadd":
		why = w.groupadd(at, args)
	case "usermod", "gpasswd":
		why = w.members(at, name, args)
	case "chown", "chgrp", "chmod":
		why = w.owner(at, name, args)
	case "install", "mkdir":
		why = w.mkdir(at, name, args)
	case "dpkg-statoverride":
		why = w.statoverride(at, args)
	case "ucf", "cp":
		why = w.copy(at, name, args)
	case "ln":
		why = w.link(at, args)
	default:
		why = "not one of the idioms unit reproduces"
	}
	if why != "" {
		w.skip(c, why)
		return unknown
	}
	return yes
}

// function walks a function's body with its arguments as $1, $2, ...
// (unknown when they are computed at run time).
func (w *walker) function(body *syntax.Stmt, args []string, known bool, depth int, cond bool) tri {
	params := []string{"@", "#", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	saved := map[string]*string{}
	for _, p := range params {
		if v, ok := w.vars[p]; ok {
			saved[p] = &v
		}
		delete(w.vars, p)
	}
	if known {
		w.vars["@"], w.vars["#"] = strings.Join(args, " "), strconv.Itoa(len(args))
		for i, a := range args[:min(len(args), 9)] {
			w.vars[strconv.Itoa(i+1)] = a
		}
		for i := len(args); i < 9; i++ {
			w.vars[strconv.Itoa(i+1)] = ""
		}
	}
	st := w.stmt(body, depth+1, cond)
	for _, p := range params {
		delete(w.vars, p)
		if v := saved[p]; v != nil {
			w.vars[p] = *v
		}
	}
	return st
}

// question decides the conditions a fresh install answers the same way
// every time: test/[ on known values, getent and id (no such user yet),
// dpkg-statoverride --list (no override yet), dpkg --compare-versions
// against the empty old version (not an upgrade).
func question(name string, args []string, known bool) (tri, bool) {
	switch name {
	case "true", ":":
		return yes, true
	case "false":
		return no, true
	case "getent", "id":
		return no, true
	case "dpkg-statoverride":
		if len(args) > 0 && args[0] == "--list" {
			return no, true
		}
	case "dpkg":
		if known && len(args) >= 2 && args[0] == "--compare-versions" && args[1] == "" {
			return no, true
		}
	case "[", "test":
		if !known {
			return unknown, true
		}
		if name == "[" {
			if len(args) == 0 || args[len(args)-1] != "]" {
				return unknown, true
			}
			args = args[:len(args)-1]
		}
		return testExpr(args), true
	}
	return unknown, false
}

// testExpr evaluates test(1)'s string forms; file tests are unknown.
func testExpr(a []string) tri {
	for i, op := range a { // -o binds loosest, then -a
		if op == "-o" && i > 0 {
			l, r := testExpr(a[:i]), testExpr(a[i+1:])
			switch {
			case l == yes || r == yes:
				return yes
			case l == no && r == no:
				return no
			}
			return unknown
		}
	}
	for i, op := range a {
		if op == "-a" && i > 0 {
			l, r := testExpr(a[:i]), testExpr(a[i+1:])
			switch {
			case l == no || r == no:
				return no
			case l == yes && r == yes:
				return yes
			}
			return unknown
		}
	}
	if len(a) > 0 && a[0] == "!" {
		return testExpr(a[1:]).not()
	}
	switch len(a) {
	case 1:
		return truth(a[0] != "")
	case 2:
		switch a[0] {
		case "-n":
			return truth(a[1] != "")
		case "-z":
			return truth(a[1] == "")
		}
	case 3:
		switch a[1] {
		case "=", "==":
			return truth(a[0] == a[2])
		case "!=":
			return truth(a[0] != a[2])
		}
	}
	return unknown
}

func truth(b bool) tri {
	if b {
		return yes
	}
	return no
}

package maintscript

import (
	"fmt"
	"path"
	"strings"

	"github.com/unit-os/unit/config"
)

// opts splits a command line into options and operands. withValue are
// the options that take the next word (or =VALUE).
func opts(args []string, withValue map[string]bool) (map[string]string, []string, string) {
	o, rest := map[string]string{}, []string(nil)
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return o, append(rest, args[i+1:]...), ""
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			rest = append(rest, a)
			continue
		}
		if k, v, eq := strings.Cut(a, "="); eq && withValue[k] {
			o[k] = v
			continue
		}
		if withValue[a] {
			if i+1 >= len(args) {
				return nil, nil, fmt.Sprintf("%s needs a value", a)
			}
			o[a] = args[i+1]
			i++
			continue
		}
		o[a] = ""
	}
	return o, rest, ""
}

func has(o map[string]string, names ...string) bool {
	for _, n := range names {
		if _, ok := o[n]; ok {
			return true
		}
	}
	return false
}

func first(o map[string]string, names ...string) string {
	for _, n := range names {
		if v, ok := o[n]; ok {
			return v
		}
	}
	return ""
}

var adduserValues = map[string]bool{"--home": true, "--shell": true, "--gecos": true, "--comment": true,
	"--ingroup": true, "--uid": true, "--gid": true, "--firstuid": true, "--lastuid": true,
	"--firstgid": true, "--lastgid": true, "--conf": true, "--add-extra-groups": false}

// adduser: --system NAME makes a system user; --group NAME (or addgroup
// --system) a group; USER GROUP adds a member.
func (w *walker) adduser(at config.Pos, args []string) string {
	o, rest, bad := opts(args, adduserValues)
	if bad != "" {
		return bad
	}
	system, group := has(o, "--system"), has(o, "--group")
	switch {
	case len(rest) == 2 && !system && !group:
		w.out.Members = append(w.out.Members, Member{Pos: at, User: rest[0], Group: rest[1]})
	case len(rest) == 1 && system:
		u := User{Pos: at, Name: rest[0], Home: first(o, "--home"), Shell: first(o, "--shell"),
			Gecos: first(o, "--gecos", "--comment"), Group: first(o, "--ingroup")}
		if u.Home == "" {
			u.Home = "/nonexistent" // adduser --system's default
		}
		if group && u.Group == "" {
			u.Group, u.OwnGroup = u.Name, true
		}
		w.out.Users = append(w.out.Users, u)
	case len(rest) == 1 && group:
		w.out.Groups = append(w.out.Groups, Group{Pos: at, Name: rest[0]})
	default:
		return "not a system user, group or membership"
	}
	return ""
}

func (w *walker) addgroup(at config.Pos, args []string) string {
	o, rest, bad := opts(args, adduserValues)
	if bad != "" {
		return bad
	}
	switch {
	case len(rest) == 1 && has(o, "--system"):
		w.out.Groups = append(w.out.Groups, Group{Pos: at, Name: rest[0]})
	case len(rest) == 2:
		w.out.Members = append(w.out.Members, Member{Pos: at, User: rest[0], Group: rest[1]})
	default:
		return "not a system group or membership"
	}
	return ""
}

var useraddValues = map[string]bool{"-d": true, "--home-dir": true, "-s": true, "--shell": true,
	"-g": true, "--gid": true, "-c": true, "--comment": true, "-u": true, "--uid": true,
	"-G": true, "--groups": true, "-K": true, "--key": true, "-e": true, "-f": true, "-k": true, "-b": true, "--base-dir": true}

func (w *walker) useradd(at config.Pos, args []string) string {
	o, rest, bad := opts(args, useraddValues)
	if bad != "" {
		return bad
	}
	if !has(o, "-r", "--system") || len(rest) != 1 {
		return "not a system user (useradd -r NAME)"
	}
	u := User{Pos: at, Name: rest[0], Home: first(o, "-d", "--home-dir"), Shell: first(o, "-s", "--shell"),
		Gecos: first(o, "-c", "--comment"), Group: first(o, "-g", "--gid")}
	if u.Group == "" && !has(o, "-N", "--no-user-group") {
		u.Group, u.OwnGroup = u.Name, true // USERGROUPS_ENAB yes, Debian's login.defs
	}
	w.out.Users = append(w.out.Users, u)
	for _, g := range strings.Split(first(o, "-G", "--groups"), ",") {
		if g != "" {
			w.out.Members = append(w.out.Members, Member{Pos: at, User: u.Name, Group: g})
		}
	}
	return ""
}

func (w *walker) groupadd(at config.Pos, args []string) string {
	o, rest, bad := opts(args, map[string]bool{"-g": true, "--gid": true, "-K": true, "-p": true})
	if bad != "" {
		return bad
	}
	if !has(o, "-r", "--system") || len(rest) != 1 {
		return "not a system group (groupadd -r NAME)"
	}
	w.out.Groups = append(w.out.Groups, Group{Pos: at, Name: rest[0]})
	return ""
}

// members: usermod -a -G GROUPS USER, gpasswd -a USER GROUP.
func (w *walker) members(at config.Pos, name string, args []string) string {
	if name == "gpasswd" {
		if len(args) == 3 && (args[0] == "-a" || args[0] == "--add") {
			w.out.Members = append(w.out.Members, Member{Pos: at, User: args[1], Group: args[2]})
			return ""
		}
		return "not gpasswd -a USER GROUP"
	}
	o, rest, bad := opts(args, map[string]bool{"-G": true, "--groups": true})
	if bad != "" {
		return bad
	}
	if !has(o, "-a", "--append") || len(o) != 2 || len(rest) != 1 {
		return "not usermod -a -G GROUPS USER"
	}
	for _, g := range strings.Split(first(o, "-G", "--groups"), ",") {
		if g != "" {
			w.out.Members = append(w.out.Members, Member{Pos: at, User: rest[0], Group: g})
		}
	}
	return ""
}

// owner: chown [-R] USER[:GROUP] PATH..., chgrp [-R] GROUP PATH...,
// chmod [-R] OCTAL PATH....
func (w *walker) owner(at config.Pos, name string, args []string) string {
	o, rest, bad := opts(args, nil)
	if bad != "" {
		return bad
	}
	for k := range o {
		if k != "-R" && k != "-h" && k != "--recursive" && k != "-f" && k != "--quiet" && k != "-c" && k != "-v" {
			return "option " + k
		}
	}
	if len(rest) < 2 {
		return "no path"
	}
	p := Path{Pos: at, Recursive: has(o, "-R", "--recursive")}
	switch name {
	case "chown":
		u, g, _ := strings.Cut(rest[0], ":")
		if strings.Contains(u, ".") && g == "" { // the old USER.GROUP form
			u, g, _ = strings.Cut(u, ".")
		}
		p.Owner, p.Group = u, g
	case "chgrp":
		p.Group = rest[0]
	case "chmod":
		if !octal(rest[0]) {
			return "a symbolic mode"
		}
		p.Mode = rest[0]
	}
	return w.paths(p, rest[1:])
}

// mkdir: install -d [-m MODE] [-o USER] [-g GROUP] DIR..., mkdir [-p] [-m MODE] DIR....
func (w *walker) mkdir(at config.Pos, name string, args []string) string {
	values := map[string]bool{"-m": true, "--mode": true}
	if name == "install" {
		values["-o"], values["--owner"], values["-g"], values["--group"] = true, true, true, true
	}
	o, rest, bad := opts(args, values)
	if bad != "" {
		return bad
	}
	if name == "install" && !has(o, "-d", "--directory") {
		return "install of a file"
	}
	if len(rest) == 0 {
		return "no path"
	}
	p := Path{Pos: at, Dir: true, Mode: first(o, "-m", "--mode"), Owner: first(o, "-o", "--owner"), Group: first(o, "-g", "--group")}
	if p.Mode != "" && !octal(p.Mode) {
		return "a symbolic mode"
	}
	return w.paths(p, rest)
}

// statoverride: dpkg-statoverride [--update] [--force] --add USER GROUP MODE PATH.
func (w *walker) statoverride(at config.Pos, args []string) string {
	o, rest, bad := opts(args, nil)
	if bad != "" {
		return bad
	}
	if !has(o, "--add") || len(rest) != 4 || !octal(rest[2]) {
		return "not dpkg-statoverride --add USER GROUP MODE PATH"
	}
	return w.paths(Path{Pos: at, Owner: rest[0], Group: rest[1], Mode: rest[2]}, rest[3:])
}

func (w *walker) paths(p Path, list []string) string {
	for _, f := range list {
		if !path.IsAbs(f) || path.Clean(f) != strings.TrimSuffix(f, "/") && path.Clean(f) != f {
			return fmt.Sprintf("path %q is not absolute and clean", f)
		}
	}
	for _, f := range list {
		q := p
		q.Path = path.Clean(f)
		w.out.Paths = append(w.out.Paths, q)
	}
	return ""
}

func octal(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '7' {
			return false
		}
	}
	return true
}

// copy: ucf [--three-way] [--debconf-ok] [--sum-file F] SRC DST, or cp
// [-a|-p|-Z…] SRC DST of one file.
func (w *walker) copy(at config.Pos, name string, args []string) string {
	values := map[string]bool{"--sum-file": true, "--src-dir": true, "--state-dir": true}
	o, rest, bad := opts(args, values)
	if bad != "" {
		return bad
	}
	for k := range o {
		switch k {
		case "--three-way", "--debconf-ok", "--sum-file", "-a", "-p", "-Z", "-aZ", "--preserve", "-f":
		default:
			return "option " + k
		}
	}
	if len(rest) != 2 {
		return "not " + name + " SRC DST of one file"
	}
	from, to := rest[0], rest[1]
	// A template copied into a mktemp file, edited there, then installed
	// (openssh-server's sshd_config): the package's file is what is
	// installed; the edits are listed as not reproduced.
	if _, ok := w.temps[to]; ok && path.IsAbs(from) {
		w.temps[to] = path.Clean(from)
		return ""
	}
	if src, ok := w.temps[from]; ok {
		if src == "" {
			return "installs a temporary file whose content is made at run time"
		}
		from = src
	}
	if !path.IsAbs(from) || !path.IsAbs(to) || strings.HasSuffix(to, "/") {
		return "not " + name + " SRC DST of one file"
	}
	w.out.Copies = append(w.out.Copies, Copy{Pos: at, From: path.Clean(from), To: path.Clean(to)})
	return ""
}

// link: ln -s[f][n] TARGET PATH.
func (w *walker) link(at config.Pos, args []string) string {
	o, rest, bad := opts(args, nil)
	if bad != "" {
		return bad
	}
	symbolic := false
	for k := range o {
		switch k {
		case "-s", "--symbolic":
			symbolic = true
		case "-sf", "-fs", "-sfn", "-snf", "-fsn", "-nsf", "-sn", "-ns":
			symbolic = true
		case "-f", "--force", "-n", "--no-dereference", "-v":
		default:
			return "option " + k
		}
	}
	if !symbolic {
		return "a hard link"
	}
	if len(rest) != 2 || rest[0] == "" || !path.IsAbs(rest[1]) || strings.HasSuffix(rest[1], "/") {
		return "not ln -s TARGET PATH"
	}
	w.out.Links = append(w.out.Links, Link{Pos: at, Target: rest[0], Path: path.Clean(rest[1])})
	return ""
}

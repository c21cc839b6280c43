package declared

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/maintscript"
	"github.com/unit-os/unit/systemd/syntax"
	"github.com/unit-os/unit/systemd/sysusers"
	"github.com/unit-os/unit/systemd/tmpfiles"
)

// maxDeclFile bounds one sysusers.d or tmpfiles.d file.
const maxDeclFile = 1 << 20

// confFiles are the *.conf files of a declaration directory, by name:
// /etc/X.d masks the same name in /usr/lib/X.d and /lib/X.d, as systemd
// reads them; the order is by file name. Paths never leave the root.
func confFiles(root *os.Root, kind string) ([]string, error) {
	byName := map[string]string{}
	for _, dir := range []string{"lib/" + kind, "usr/lib/" + kind, "etc/" + kind} {
		ents, err := fs.ReadDir(root.FS(), dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read /%s: %w", dir, err)
		}
		for _, e := range ents {
			if e.Type().IsRegular() && path.Ext(e.Name()) == ".conf" {
				byName[e.Name()] = dir + "/" + e.Name()
			}
		}
	}
	names := sorted(byName)
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = byName[n]
	}
	return out, nil
}

func readConf(root *os.Root, rel string) ([]byte, error) {
	f, err := root.Open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, maxDeclFile+1)
	n, err := f.Read(b)
	for err == nil && n < len(b) {
		var m int
		m, err = f.Read(b[n:])
		n += m
	}
	if n > maxDeclFile {
		return nil, fmt.Errorf("/%s: larger than %d bytes", rel, maxDeclFile)
	}
	return b[:n], nil
}

func (g *gatherer) open() (*os.Root, error) {
	r, err := os.OpenRoot(g.in.Root)
	if err != nil {
		return nil, fmt.Errorf("declarations: %w", err)
	}
	return r, nil
}

// sysusers reads sysusers.d: u, g and m lines; r lines are noted (unit
// allocates from 100..999).
func (g *gatherer) sysusers(root *os.Root) error {
	return eachConf(root, "sysusers.d", sysusers.Parse, g.sysuser)
}

// sysuser takes one sysusers.d line.
func (g *gatherer) sysuser(e sysusers.Entry) {
	switch e.Type {
	case 'u':
		u := &user{from: e.Pos, name: e.Name, uid: -1, home: e.Home, shell: e.Shell, gecos: e.GECOS}
		if e.UIDSet {
			u.uid = int(e.UID)
		}
		if e.IDPath != "" {
			g.note(e.Pos, "user %s: an id taken from %s's owner is allocated instead", e.Name, e.IDPath)
		}
		switch {
		case e.Group != "":
			u.group = e.Group
		case e.GIDSet:
			g.addGroup(&group{from: e.Pos, name: e.Name, gid: int(e.GID)})
			u.group = e.Name
		default:
			u.group, u.ownGroup = e.Name, true
		}
		if u.home == "" {
			u.home = "/"
		}
		if u.shell == "" {
			u.shell = "/usr/sbin/nologin"
		}
		g.addUser(u)
	case 'g':
		gr := &group{from: e.Pos, name: e.Name, gid: -1}
		if e.GIDSet {
			gr.gid = int(e.GID)
		}
		g.addGroup(gr)
	case 'm':
		g.member(e.Pos, e.Name, e.Group)
	case 'r':
		g.note(e.Pos, "an id range: unit allocates system ids from 100..999")
	}
}

// eachConf parses every *.conf of a declaration directory, in
// confFiles' order, and hands each entry to take.
func eachConf[E any](root *os.Root, kind string, parse func(string, []byte, syntax.Specifiers) ([]E, error), take func(E)) error {
	files, err := confFiles(root, kind)
	if err != nil {
		return err
	}
	for _, rel := range files {
		data, err := readConf(root, rel)
		if err != nil {
			return err
		}
		entries, err := parse("/"+rel, data, syntax.System())
		if err != nil {
			return err
		}
		for _, e := range entries {
			take(e)
		}
	}
	return nil
}

func (g *gatherer) member(at config.Pos, userName, groupName string) {
	u := g.users[userName]
	if u == nil {
		if g.in.Defined("user", userName) {
			g.note(at, "user %s joins group %s: add it to the groups of your [user.%s]", userName, groupName, userName)
			return
		}
		g.needUser(userName, at)
		if u = g.users[userName]; u == nil {
			return
		}
	}
	if u.supplemental == nil {
		u.supplemental = map[string]bool{}
	}
	u.supplemental[groupName] = true
}

// scripts reads each postinst's users, groups and memberships; the paths
// it touches are taken after tmpfiles.d (which wins where both speak).
func (g *gatherer) scripts() {
	for _, s := range g.in.Scripts {
		if s.Postinst == "" {
			continue
		}
		sc, err := maintscript.Scan(s.Package+".postinst", s.Package, []byte(s.Postinst))
		if err != nil {
			g.note(config.Pos{File: s.Package + ".postinst", Line: 1}, "not read: %v", err)
			continue
		}
		for _, gr := range sc.Groups {
			g.addGroup(&group{from: gr.Pos, name: gr.Name, gid: -1})
		}
		for _, u := range sc.Users {
			shell := u.Shell
			if shell == "" {
				shell = "/usr/sbin/nologin" // adduser --system's default
			}
			group := u.Group
			if group == "" {
				group = "nogroup"
			}
			g.addUser(&user{from: u.Pos, name: u.Name, uid: -1, home: u.Home, shell: shell, gecos: u.Gecos, group: group, ownGroup: u.OwnGroup})
		}
		for _, m := range sc.Members {
			g.member(m.Pos, m.User, m.Group)
		}
		g.pending = append(g.pending, sc.Paths...)
		g.links = append(g.links, sc.Links...)
		for _, k := range sc.Skipped {
			what := k.Command + ": not reproduced"
			if k.Why != "" {
				what += " (" + k.Why + ")"
			}
			g.notes = append(g.notes, Note{Pos: k.Pos, What: what})
		}
	}
}

// tmpfiles reads tmpfiles.d: d and D lines become directories (with an
// age, cleaned ones), L lines links; every other type is noted. Then the
// postinst's paths and links, which tmpfiles.d wins over.
func (g *gatherer) tmpfiles(root *os.Root) error {
	if err := eachConf(root, "tmpfiles.d", tmpfiles.Parse, g.tmpfile); err != nil {
		return err
	}
	g.scriptPaths(root)
	g.scriptLinks(root)
	return nil
}

// scriptLinks are the links a postinst makes (nginx's default site
// enabled), where nothing else declared the path and the image has
// nothing there.
func (g *gatherer) scriptLinks(root *os.Root) {
	for _, l := range g.links {
		name := canonical(l.Path)
		if p := g.paths[name]; p != nil {
			g.note(l.Pos, "%s: also declared at %s, which wins", name, p.from)
			continue
		}
		if _, err := root.Lstat(name[1:]); err == nil {
			continue // the package ships it
		}
		g.paths[name] = &pathDecl{from: l.Pos, kind: "link", name: name, target: l.Target}
	}
}

func (g *gatherer) tmpfile(e tmpfiles.Entry) {
	p := &pathDecl{from: e.Pos, name: canonical(e.Path), owner: e.User, group: e.Group}
	switch e.Type {
	case 'd', 'D':
		p.kind = "dir"
		if e.ModeSet {
			p.mode = fmt.Sprintf("%04o", uint32(e.Mode.Perm())|modeBits(e.Mode))
		}
		if e.AgeSet {
			p.kind, p.age = "tmpfile", strconv.FormatInt(int64(e.Age.Seconds()), 10)
			if e.Age.Seconds() < 1 {
				g.note(e.Pos, "%s: an age under a second is not cleaned", e.Path)
				p.kind, p.age = "dir", ""
			}
		}
	case 'L':
		p.kind, p.target = "link", e.Argument
		p.owner, p.group = "", ""
	default:
		g.note(e.Pos, "%c %s: this tmpfiles.d type is not honoured", e.Type, e.Path)
		return
	}
	if p.name == "/" || !path.IsAbs(p.name) {
		g.note(e.Pos, "%s: not a path unit manages", e.Path)
		return
	}
	if have := g.paths[p.name]; have != nil {
		g.note(e.Pos, "%s: declared before at %s, which wins", p.name, have.from)
		return
	}
	g.needUser(p.owner, e.Pos)
	g.needGroup(p.group, e.Pos)
	g.paths[p.name] = p
}

// modeBits keeps setuid, setgid and sticky from an fs.FileMode.
func modeBits(m fs.FileMode) uint32 {
	var b uint32
	if m&fs.ModeSetuid != 0 {
		b |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		b |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		b |= 0o1000
	}
	return b
}

// canonical is a path with Debian's /var/run and /var/lock as /run and
// /run/lock, which they link to.
func canonical(p string) string {
	p = path.Clean(p)
	for _, l := range [][2]string{{"/var/run", "/run"}, {"/var/lock", "/run/lock"}} {
		if p == l[0] || len(p) > len(l[0]) && p[:len(l[0])+1] == l[0]+"/" {
			return l[1] + p[len(l[0]):]
		}
	}
	return p
}

// scriptPaths turns what a postinst did to paths into directories: a
// directory it made, or one of the image's own it gave an owner or mode.
// Later commands set what they set, as they would when run in order.
func (g *gatherer) scriptPaths(root *os.Root) {
	for _, a := range g.pending {
		name := canonical(a.Path)
		rel := name[1:]
		fi, err := root.Lstat(rel)
		made := g.paths[name] != nil && g.paths[name].from.File == a.Pos.File // by an earlier command
		switch {
		case err == nil && !fi.IsDir():
			g.note(a.Pos, "%s: the owner or mode of a file is not reproduced (the image's files are root's)", a.Path)
			continue
		case err != nil && !a.Dir && !made:
			g.note(a.Pos, "%s: not in the image", a.Path)
			continue
		}
		if a.Recursive {
			g.note(a.Pos, "%s: -R: the directory only", a.Path)
		}
		p := g.paths[name]
		if p != nil && p.from.File != a.Pos.File {
			g.note(a.Pos, "%s: also declared at %s, which wins", name, p.from)
			continue
		}
		if p == nil {
			p = &pathDecl{from: a.Pos, kind: "dir", name: name}
			g.paths[name] = p
		}
		if a.Owner != "" {
			p.owner = a.Owner
		}
		if a.Group != "" {
			p.group = a.Group
		}
		if a.Mode != "" {
			p.mode = a.Mode
		}
		g.needUser(p.owner, a.Pos)
		g.needGroup(p.group, a.Pos)
	}
}

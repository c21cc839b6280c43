// Package declared gathers what the Debian packages of an image declare
// for their daemons into unit resources, at build time: the system users
// and groups of sysusers.d and of the postinst idioms (with ids from
// package ids), the directories, links and cleaned directories of
// tmpfiles.d, the owners and modes a postinst gives its own directories.
// The result is a TOML file the image carries in /usr/lib/unit, below
// /etc/unit (a table there replaces the same one here whole), and a list
// of what was not taken, each with its file:line. Nothing here acts.
package declared

import (
	"fmt"
	"sort"
	"strings"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/ids"
	"github.com/unit-os/unit/maintscript"
)

// Script is one package's postinst.
type Script struct {
	Package  string
	Postinst string
}

// Note is something a package declares that unit does not reproduce, or
// did differently, at the file:line that says it.
type Note struct {
	Pos  config.Pos
	What string
}

func (n Note) String() string { return fmt.Sprintf("%s: %s", n.Pos, n.What) }

// Input is what Gather reads.
type Input struct {
	// Root is the image's assembled tree (its usr/lib/sysusers.d,
	// usr/lib/tmpfiles.d, etc/… are read).
	Root    string
	Scripts []Script
	Pins    *ids.Pins
	// Taken says whether an id is used by the image's base passwd/group.
	Taken func(id int) bool
	// Defined says whether the system's own TOML has this resource
	// ("user", "haproxy"): it wins, so nothing is made or pinned for it.
	Defined func(kind, name string) bool
	// Debian: the image is made of Debian's packages, so it has Debian's
	// static accounts (base-passwd's, Essential on every Debian system:
	// nginx's default config names www-data in no declaration).
	Debian bool
	// Users and Groups are names the config uses (a service's user, an
	// owner) that must exist: made as system accounts when nothing
	// declares them.
	Users, Groups []Need
}

// Need is a name the config uses, where it uses it.
type Need struct {
	Name string
	Pos  config.Pos
}

// Result is the declared resources, as TOML, and the notes.
type Result struct {
	TOML  []byte
	Notes []Note
	// Resources counts the tables written.
	Resources int
}

// Gather reads the declarations in in.Root and the scripts.
func Gather(in Input) (*Result, error) {
	g := &gatherer{in: in, users: map[string]*user{}, groups: map[string]*group{}, paths: map[string]*pathDecl{}}
	if in.Defined == nil {
		g.in.Defined = func(string, string) bool { return false }
	}
	root, err := g.open()
	if err != nil {
		return nil, err
	}
	defer root.Close()
	if err := g.sysusers(root); err != nil {
		return nil, err
	}
	g.scripts()
	if err := g.tmpfiles(root); err != nil {
		return nil, err
	}
	for _, u := range in.Users {
		g.needUser(u.Name, u.Pos)
	}
	if in.Debian {
		g.basePasswd()
	}
	for _, gr := range in.Groups {
		g.needGroup(gr.Name, gr.Pos)
	}
	if err := g.assign(); err != nil {
		return nil, err
	}
	return g.result(), nil
}

type user struct {
	from         config.Pos
	name         string
	uid          int // -1: allocate
	group        string
	groups       []string
	home, shell  string
	gecos        string
	ownGroup     bool
	supplemental map[string]bool
}

type group struct {
	from config.Pos
	name string
	gid  int // -1: allocate
	// prefer is the user whose uid this group would like as its gid.
	prefer string
}

// path is a directory, link or cleaned directory to make.
type pathDecl struct {
	from         config.Pos
	kind         string // dir, tmpfile, link
	name         string
	mode         string
	owner, group string
	age          string
	target       string
}

type gatherer struct {
	in     Input
	users  map[string]*user
	groups map[string]*group
	paths  map[string]*pathDecl
	notes  []Note
	// pending are the postinst path actions and links, taken after
	// tmpfiles.d.
	pending []maintscript.Path
	links   []maintscript.Link
}

func (g *gatherer) note(at config.Pos, format string, args ...any) {
	g.notes = append(g.notes, Note{Pos: at, What: fmt.Sprintf(format, args...)})
}

// addUser records a user; the first declaration wins, as in systemd.
func (g *gatherer) addUser(u *user) {
	if g.in.Defined("user", u.name) {
		return
	}
	if have := g.users[u.name]; have != nil {
		// A second declaration of the same user adds nothing but its
		// groups; different settings are the first one's.
		return
	}
	g.users[u.name] = u
	if u.ownGroup {
		g.addGroup(&group{from: u.from, name: u.name, gid: -1, prefer: u.name})
	}
}

func (g *gatherer) addGroup(gr *group) {
	if g.in.Defined("group", gr.name) || g.groups[gr.name] != nil {
		return
	}
	g.groups[gr.name] = gr
}

// needUser makes a user that something uses and nothing declared: a
// static Debian one as Debian has it, else a system user with its group.
func (g *gatherer) needUser(name string, at config.Pos) {
	if name == "" || isNumber(name) || g.in.Defined("user", name) || g.users[name] != nil {
		return
	}
	if a, ok := ids.StaticUser(name); ok {
		g.addUser(&user{from: at, name: name, uid: a.UID, home: a.Home, shell: a.Shell, gecos: a.Gecos, group: staticGroupName(a.GID)})
		g.needGroup(staticGroupName(a.GID), at)
		return
	}
	g.addUser(&user{from: at, name: name, uid: -1, group: name, ownGroup: true, home: "/nonexistent", shell: "/usr/sbin/nologin"})
}

func (g *gatherer) needGroup(name string, at config.Pos) {
	if name == "" || isNumber(name) || g.in.Defined("group", name) || g.groups[name] != nil {
		return
	}
	g.addGroup(&group{from: at, name: name, gid: -1})
}

// basePasswd adds Debian's static accounts the image lacks, each from
// its line of base-passwd's master files.
func (g *gatherer) basePasswd() {
	for i, a := range ids.StaticUsers() {
		g.needUser(a.Name, config.Pos{File: "/usr/share/base-passwd/passwd.master", Line: i + 1})
	}
	for i, name := range ids.StaticGroups() {
		g.needGroup(name, config.Pos{File: "/usr/share/base-passwd/group.master", Line: i + 1})
	}
}

// staticGroupName is the name of Debian's static group gid.
func staticGroupName(gid int) string {
	for _, n := range []string{"root", "daemon", "bin", "sys", "adm", "tty", "disk", "lp", "mail", "news", "uucp",
		"man", "proxy", "kmem", "www-data", "backup", "list", "irc", "games", "users", "nogroup"} {
		if id, _ := ids.StaticGroup(n); id == gid {
			return n
		}
	}
	return ""
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// assign gives every user and group without an id its id: groups of
// users first, at their user's uid where free.
func (g *gatherer) assign() error {
	for _, name := range sorted(g.users) {
		u := g.users[name]
		if u.group != "" {
			g.needGroup(u.group, u.from)
		}
		for s := range u.supplemental {
			if g.groups[s] == nil && !g.in.Defined("group", s) {
				if _, ok := ids.StaticGroup(s); !ok {
					g.note(u.from, "user %s: group %s is declared by no package of the image; membership left out", name, s)
					delete(u.supplemental, s)
					continue
				}
				g.needGroup(s, u.from)
			}
		}
		if u.uid >= 0 {
			continue
		}
		id, err := g.in.Pins.User(name, g.in.Taken)
		if err != nil {
			return fmt.Errorf("%s: %w", u.from, err)
		}
		u.uid = id
	}
	for _, name := range sorted(g.groups) {
		gr := g.groups[name]
		if gr.gid >= 0 {
			continue
		}
		prefer := 0
		if u := g.users[gr.prefer]; u != nil {
			prefer = u.uid
		}
		id, err := g.in.Pins.Group(name, prefer, g.in.Taken)
		if err != nil {
			return fmt.Errorf("%s: %w", gr.from, err)
		}
		gr.gid = id
	}
	return nil
}

func sorted[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// quote is a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

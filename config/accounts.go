package config

import (
	"path/filepath"
	"strings"
)

// User is one [user.NAME] table: a line in /etc/passwd (and /etc/shadow).
type User struct {
	Meta
	Edges
	UID      *int     `toml:"uid"`
	Group    string   `toml:"group"`  // primary group name or number; default: the group named like the user, else uid
	Groups   []string `toml:"groups"` // supplementary groups (the user is added to their member lists)
	Home     string   `toml:"home"`
	Shell    string   `toml:"shell"`
	Comment  string   `toml:"comment"`
	Password string   `toml:"password"` // crypt(3) hash for /etc/shadow; "" leaves it locked ("!")
	Ensure   string   `toml:"ensure"`   // present (default) | absent
}

// Group is one [group.NAME] table: a line in /etc/group.
type Group struct {
	Meta
	Edges
	GID     *int     `toml:"gid"`
	Members []string `toml:"members"`
	Ensure  string   `toml:"ensure"`
}

// Absent reports whether the account must not exist.
func (u *User) Absent() bool  { return u.Ensure == "absent" }
func (g *Group) Absent() bool { return g.Ensure == "absent" }

// checkAccount checks what users and groups share: the name, ensure and
// the numeric id (uid or gid).
func checkAccount(bad func(string, string, ...any), what, name string, ensure *string, idKey string, id *int) {
	if !isAccountName(name) || len(name) > 32 {
		bad("", "invalid %s name: expected [a-z_][a-z0-9_-]*, at most 32 characters", what)
	}
	checkEnsure(bad, ensure, "present", "absent")
	if id != nil && (*id < 0 || *id > 1<<31-2) {
		bad(idKey, "%s = %d: expected 0..2147483646", idKey, *id)
	}
}

func validateUser(u *User) Errors {
	var errs Errors
	bad := resourceComplainer(&errs, &u.Meta, "user")
	checkAccount(bad, "user", u.Name, &u.Ensure, "uid", u.UID)
	if u.Home != "" && !filepath.IsAbs(u.Home) {
		bad("home", "home = %q: expected an absolute path", u.Home)
	}
	if u.Shell != "" && !filepath.IsAbs(u.Shell) {
		bad("shell", "shell = %q: expected an absolute path", u.Shell)
	}
	for _, kv := range [][2]string{{"home", u.Home}, {"shell", u.Shell}, {"comment", u.Comment}, {"password", u.Password}, {"group", u.Group}} {
		noColon(bad, kv[0], kv[1])
	}
	for _, g := range u.Groups {
		if !isAccountName(g) {
			bad("groups", "group %q: invalid group name", g)
		}
	}
	return errs
}

// noColon rejects what would break a colon-separated database line.
func noColon(bad func(string, string, ...any), key, v string) {
	if strings.ContainsAny(v, ":\n") {
		bad(key, "%s = %q: must not contain ':' or a newline", key, v)
	}
}

func validateGroup(g *Group) Errors {
	var errs Errors
	bad := resourceComplainer(&errs, &g.Meta, "group")
	checkAccount(bad, "group", g.Name, &g.Ensure, "gid", g.GID)
	for _, m := range g.Members {
		if !isAccountName(m) {
			bad("members", "member %q: invalid user name", m)
		}
	}
	return errs
}

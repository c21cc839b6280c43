package cm

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/unit-os/unit/config"
)

// userRes is a [user.NAME]: its passwd line, its shadow line, and its
// membership in the groups it lists. The files are edited in place (no
// useradd): each one is replaced atomically, shadow before passwd on create
// so that a passwd entry never exists without its shadow entry.
type userRes struct {
	u   config.User
	env *env
}

func newUser(u *config.User, b *builder) *userRes {
	c := *u
	c.Groups = slices.Clone(u.Groups)
	return &userRes{u: c, env: b.env}
}

func (r *userRes) ID() string         { return "user:" + r.u.Name }
func (r *userRes) Notifies() []string { return r.u.Notify }
func (r *userRes) Watches() []string {
	return []string{r.env.passwd, r.env.shadow, r.env.group}
}

// After: the primary and supplementary groups first, when managed.
func (r *userRes) After() []string {
	var out []string
	if r.u.Group != "" {
		if _, err := strconv.Atoi(r.u.Group); err != nil {
			out = append(out, "group:"+r.u.Group)
		}
	}
	for _, g := range r.u.Groups {
		out = append(out, "group:"+g)
	}
	return out
}

func (r *userRes) Same(o Resource) bool {
	x, ok := o.(*userRes)
	return ok && reflect.DeepEqual(r.u.Edges, x.u.Edges) && reflect.DeepEqual(r.u.UID, x.u.UID) &&
		r.u.Group == x.u.Group && slices.Equal(r.u.Groups, x.u.Groups) && r.u.Home == x.u.Home &&
		r.u.Shell == x.u.Shell && r.u.Comment == x.u.Comment && r.u.Password == x.u.Password &&
		r.u.Ensure == x.u.Ensure
}

func (r *userRes) Check(ctx context.Context) ([]Delta, error) {
	r.env.accounts.Lock()
	defer r.env.accounts.Unlock()
	p, err := r.plan()
	if err != nil {
		return nil, err
	}
	return p.what, nil
}

func (r *userRes) Apply(ctx context.Context) ([]Delta, error) {
	r.env.accounts.Lock()
	defer r.env.accounts.Unlock()
	unlock, err := r.env.lockPasswd()
	if err != nil {
		return nil, err
	}
	defer unlock()
	p, err := r.plan()
	if err != nil || len(p.what) == 0 {
		return nil, err
	}
	order := []*accountDB{p.shadow, p.passwd, p.group}
	if r.u.Absent() {
		order = []*accountDB{p.passwd, p.shadow, p.group}
	}
	for _, db := range order {
		if p.dirty[db] {
			if err := db.write(); err != nil {
				return nil, fmt.Errorf("user %s: %w", r.u.Name, err)
			}
		}
	}
	if p.dirty[p.group] {
		if err := r.env.syncGshadow(p.group); err != nil {
			return nil, fmt.Errorf("user %s: %w", r.u.Name, err)
		}
	}
	return p.what, nil
}

func (r *userRes) Purge(ctx context.Context) ([]Delta, error) {
	gone := *r
	gone.u.Ensure = "absent"
	return gone.Apply(ctx)
}

type accountPlan struct {
	passwd, shadow, group *accountDB
	dirty                 map[*accountDB]bool
	what                  []Delta
}

func (r *userRes) plan() (*accountPlan, error) {
	p := &accountPlan{dirty: map[*accountDB]bool{}}
	var err error
	if p.passwd, err = readDB(r.env.passwd, 0o644); err != nil {
		return nil, err
	}
	if p.shadow, err = readDB(r.env.shadow, 0o640); err != nil {
		return nil, err
	}
	if p.group, err = readDB(r.env.group, 0o644); err != nil {
		return nil, err
	}
	name := r.u.Name
	cur := p.passwd.get(name)
	if r.u.Absent() {
		if cur != nil {
			p.what = append(p.what, Delta{Attr: whatRemoved})
			p.dirty[p.passwd] = p.passwd.remove(name)
		}
		p.dirty[p.shadow] = p.shadow.remove(name)
		return p, r.setMemberships(p, nil)
	}
	want, err := r.passwdLine(p, cur)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		p.what = append(p.what, Delta{Attr: whatCreated})
	} else {
		for i, attr := range []string{"", "", "uid", "gid", "comment", "home", "shell"} {
			if attr != "" && (i >= len(cur) || cur[i] != want[i]) {
				old := ""
				if i < len(cur) {
					old = cur[i]
				}
				p.what = append(p.what, delta(attr, old, want[i]))
			}
		}
	}
	p.dirty[p.passwd] = p.passwd.set(name, want)

	sh := p.shadow.get(name)
	switch {
	case sh == nil:
		hash := r.u.Password
		if hash == "" {
			hash = "!" // locked until someone sets a password
		}
		p.shadow.set(name, []string{name, hash, "", "0", "99999", "7", "", "", ""})
		p.dirty[p.shadow] = true
		if cur != nil {
			p.what = append(p.what, Delta{Attr: "shadow entry", New: "created"})
		}
	case r.u.Password != "" && (len(sh) < 2 || sh[1] != r.u.Password):
		sh[1] = r.u.Password
		p.shadow.set(name, sh)
		p.dirty[p.shadow] = true
		p.what = append(p.what, delta("password", "(hash)", "(new hash)"))
	}
	return p, r.setMemberships(p, r.u.Groups)
}

// setMemberships adds the user to each group in want, or, for an absent
// user, removes it from every member list.
func (r *userRes) setMemberships(p *accountPlan, want []string) error {
	for _, g := range want {
		f := p.group.get(g)
		if f == nil {
			return fmt.Errorf("user %s: group %q not in %s", r.u.Name, g, p.group.path)
		}
		for len(f) < 4 {
			f = append(f, "")
		}
		list := members(f)
		next := withMember(list, r.u.Name, true)
		if !slices.Equal(list, next) {
			f[3] = strings.Join(next, ",")
			p.group.set(g, f)
			p.dirty[p.group] = true
			p.what = append(p.what, delta("groups", "", "+"+g))
		}
	}
	if r.u.Absent() {
		for _, l := range slices.Clone(p.group.lines) {
			f := strings.Split(l, ":")
			list := members(f)
			next := withMember(list, r.u.Name, false)
			if len(list) != len(next) {
				f[3] = strings.Join(next, ",")
				p.group.set(f[0], f)
				p.dirty[p.group] = true
			}
		}
	}
	return nil
}

// passwdLine is the desired passwd entry. Unset keys keep what the current
// entry has; a new user gets a free uid, the group named like it (else 100),
// /home/NAME and /bin/sh.
func (r *userRes) passwdLine(p *accountPlan, cur []string) ([]string, error) {
	for len(cur) > 0 && len(cur) < 7 {
		cur = append(cur, "")
	}
	field := func(i int, set, def string) string {
		switch {
		case set != "":
			return set
		case cur != nil:
			return cur[i]
		}
		return def
	}
	uid := ""
	switch {
	case r.u.UID != nil:
		uid = strconv.Itoa(*r.u.UID)
	case cur != nil:
		uid = cur[2]
	default:
		n, err := freeID(p.passwd.ids())
		if err != nil {
			return nil, fmt.Errorf("user %s: %w", r.u.Name, err)
		}
		uid = strconv.Itoa(n)
	}
	gid := ""
	switch g := r.u.Group; {
	case g != "":
		if _, err := strconv.Atoi(g); err == nil {
			gid = g
		} else if id := p.group.idOf(g); id >= 0 {
			gid = strconv.Itoa(id)
		} else {
			return nil, fmt.Errorf("user %s: group %q not in %s", r.u.Name, g, p.group.path)
		}
	case cur != nil:
		gid = cur[3]
	case p.group.idOf(r.u.Name) >= 0:
		gid = strconv.Itoa(p.group.idOf(r.u.Name))
	default:
		gid = "100"
	}
	return []string{
		r.u.Name, "x", uid, gid,
		field(4, r.u.Comment, ""),
		field(5, r.u.Home, "/home/"+r.u.Name),
		field(6, r.u.Shell, "/bin/sh"),
	}, nil
}

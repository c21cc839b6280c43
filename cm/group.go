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

// groupRes is a [group.NAME]: its /etc/group line. With members set, the
// member list is exactly those plus the users that list the group in their
// groups (so the two never fight); without, members are left alone.
type groupRes struct {
	g       config.Group
	members []string // nil: unmanaged
	env     *env
}

func newGroup(g *config.Group, b *builder) *groupRes {
	r := &groupRes{g: *g, env: b.env}
	if g.Members != nil {
		r.members = append(slices.Clone(g.Members), b.userMembers(g.Name)...)
		seen := map[string]bool{}
		r.members = slices.DeleteFunc(r.members, func(m string) bool {
			dup := seen[m]
			seen[m] = true
			return dup
		})
	}
	return r
}

// userMembers lists the users (present ones) that name group in their
// groups: a group with members keeps them too. Built once per plan.
func (b *builder) userMembers(group string) []string {
	if b.memberships == nil {
		b.memberships = map[string][]string{}
		for _, u := range config.All[config.User](b.cfg) {
			if u.Absent() {
				continue
			}
			for _, g := range u.Groups {
				b.memberships[g] = append(b.memberships[g], u.Name)
			}
		}
	}
	return b.memberships[group]
}

func (r *groupRes) ID() string         { return "group:" + r.g.Name }
func (r *groupRes) Notifies() []string { return r.g.Notify }
func (r *groupRes) Watches() []string  { return []string{r.env.group} }

func (r *groupRes) Same(o Resource) bool {
	x, ok := o.(*groupRes)
	return ok && reflect.DeepEqual(r.g.Edges, x.g.Edges) && reflect.DeepEqual(r.g.GID, x.g.GID) &&
		slices.Equal(r.members, x.members) && (r.members == nil) == (x.members == nil) && r.g.Ensure == x.g.Ensure
}

func (r *groupRes) Check(ctx context.Context) ([]Delta, error) {
	r.env.accounts.Lock()
	defer r.env.accounts.Unlock()
	_, what, err := r.plan()
	return what, err
}

func (r *groupRes) Apply(ctx context.Context) ([]Delta, error) {
	r.env.accounts.Lock()
	defer r.env.accounts.Unlock()
	unlock, err := r.env.lockPasswd()
	if err != nil {
		return nil, err
	}
	defer unlock()
	db, what, err := r.plan()
	if err != nil || len(what) == 0 {
		return nil, err
	}
	if err := db.write(); err != nil {
		return nil, fmt.Errorf("group %s: %w", r.g.Name, err)
	}
	if err := r.env.syncGshadow(db); err != nil {
		return nil, fmt.Errorf("group %s: %w", r.g.Name, err)
	}
	return what, nil
}

func (r *groupRes) Purge(ctx context.Context) ([]Delta, error) {
	gone := *r
	gone.g.Ensure = "absent"
	return gone.Apply(ctx)
}

func (r *groupRes) plan() (*accountDB, []Delta, error) {
	db, err := readDB(r.env.group, 0o644)
	if err != nil {
		return nil, nil, err
	}
	name := r.g.Name
	cur := db.get(name)
	if r.g.Absent() {
		if db.remove(name) {
			return db, []Delta{{Attr: whatRemoved}}, nil
		}
		return db, nil, nil
	}
	for len(cur) > 0 && len(cur) < 4 {
		cur = append(cur, "")
	}
	want := []string{name, "x", "", ""}
	switch {
	case r.g.GID != nil:
		want[2] = strconv.Itoa(*r.g.GID)
	case cur != nil:
		want[2] = cur[2]
	default:
		id, err := freeID(db.ids())
		if err != nil {
			return nil, nil, fmt.Errorf("group %s: %w", name, err)
		}
		want[2] = strconv.Itoa(id)
	}
	switch {
	case r.members != nil:
		want[3] = strings.Join(r.members, ",")
	case cur != nil:
		want[3] = cur[3]
	}
	if cur != nil {
		want[1] = cur[1]
	}
	var what []Delta
	if cur == nil {
		what = append(what, Delta{Attr: whatCreated})
	} else {
		if cur[2] != want[2] {
			what = append(what, delta("gid", cur[2], want[2]))
		}
		if cur[3] != want[3] {
			what = append(what, delta("members", cur[3], want[3]))
		}
	}
	db.set(name, want)
	return db, what, nil
}

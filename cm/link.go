package cm

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/safepath"
	"golang.org/x/sys/unix"
)

// linkRes is a [link."PATH"]: a symbolic link to target. It replaces a
// symlink pointing elsewhere; it refuses to replace a file or directory.
type linkRes struct {
	l   config.Link
	env *env
}

func newLink(l *config.Link, b *builder) *linkRes { return &linkRes{l: *l, env: b.env} }

func (r *linkRes) ID() string                   { return "link:" + r.l.Name }
func (r *linkRes) Notifies() []string           { return r.l.Notify }
func (r *linkRes) Watches() []string            { return []string{r.l.Name} }
func (r *linkRes) Path() string                 { return r.l.Name }
func (r *linkRes) Owners() (user, group string) { return "", "" }
func (r *linkRes) Same(o Resource) bool {
	x, ok := o.(*linkRes)
	return ok && reflect.DeepEqual(r.l, x.l)
}

func (r *linkRes) Check(ctx context.Context) ([]Delta, error) { return r.run(ctx, false) }
func (r *linkRes) Apply(ctx context.Context) ([]Delta, error) { return r.run(ctx, true) }

func (r *linkRes) Purge(ctx context.Context) ([]Delta, error) {
	gone := *r
	gone.l.Ensure = "absent"
	return gone.run(ctx, true)
}

func (r *linkRes) run(ctx context.Context, apply bool) ([]Delta, error) {
	return ensureLink(ctx, r.l.Name, r.l.Target, r.l.Absent(), apply)
}

// ensureLink makes path a symlink to target (or, absent, no symlink).
func ensureLink(ctx context.Context, path, target string, absent, apply bool) ([]Delta, error) {
	o, err := look(ctx, path)
	if err != nil {
		return nil, err
	}
	defer func() { o.close() }()
	st, exists := o.st, o.exists
	isLink := o.kind() == unix.S_IFLNK
	if exists && !isLink {
		if o.kind() == unix.S_IFDIR {
			return nil, fmt.Errorf("%s is a directory, not a symlink; not replacing it", path)
		}
		return nil, fmt.Errorf("%s is a %s, not a symlink; not replacing it", path, unixType(st.Mode))
	}
	cur := ""
	if isLink {
		if cur, err = safepath.ReadlinkAt(o.dir.Fd(), o.base); err != nil {
			return nil, fmt.Errorf("readlink %s: %w", path, err)
		}
	}
	if absent {
		if !isLink {
			return nil, nil
		}
		if apply {
			if err := unix.Unlinkat(o.dir.Fd(), o.base, 0); err != nil && !errors.Is(err, unix.ENOENT) {
				return nil, fmt.Errorf("remove %s: %w", path, err)
			}
		}
		return []Delta{{Attr: whatRemoved}}, nil
	}
	if isLink && cur == target {
		return nil, nil
	}
	what := []Delta{{Attr: whatCreated}}
	if isLink {
		what = []Delta{delta("target", cur, target)}
	}
	if !apply {
		return what, nil
	}
	if err := o.makeParent(ctx, path); err != nil {
		return nil, err
	}
	d, base := o.dir, o.base
	if err := d.Symlink(target, base); err != nil {
		return nil, fmt.Errorf("symlink %s: %w", path, err)
	}
	return what, nil
}

package cm

import (
	"context"
	"fmt"
	"reflect"
	"sort"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/safepath"
	"golang.org/x/sys/unix"
)

// dirRes is a [dir."PATH"]. With purge_unmanaged it removes entries that no
// resource manages (the engine tells it which are managed).
type dirRes struct {
	d       config.Dir
	managed map[string]bool // base names managed by other resources
	pkg     *config.Package // the package a "package:NAME/..." source names
	env     *env
}

func newDir(d *config.Dir, b *builder) *dirRes {
	return &dirRes{d: *d, pkg: packageOf(b.cfg, d.Source), env: b.env}
}

// SweepDir: with purge_unmanaged, the dir keeps only what is managed.
func (r *dirRes) SweepDir() string {
	if !r.d.PurgeUnmanaged {
		return ""
	}
	return r.d.Name
}

func (r *dirRes) SetManaged(names map[string]bool) { r.managed = names }

func (r *dirRes) ID() string                   { return "dir:" + r.d.Name }
func (r *dirRes) Notifies() []string           { return r.d.Notify }
func (r *dirRes) Watches() []string            { return []string{r.d.Name} }
func (r *dirRes) Path() string                 { return r.d.Name }
func (r *dirRes) Owners() (user, group string) { return r.d.Owner, r.d.Group }

func (r *dirRes) WatchDirs() []string {
	var out []string
	if r.d.PurgeUnmanaged || r.d.Source != "" {
		out = append(out, r.d.Name)
	}
	if r.d.Source != "" {
		if root, err := r.sourceRoot(); err == nil {
			out = append(out, root)
		}
	}
	return out
}

// After: a package source converges after its package.
func (r *dirRes) After() []string {
	if name, _, ok := pkgSource(r.d.Source); ok {
		return []string{"package:" + name}
	}
	return nil
}

func (r *dirRes) Same(o Resource) bool {
	x, ok := o.(*dirRes)
	return ok && reflect.DeepEqual(r.d, x.d) && reflect.DeepEqual(r.managed, x.managed) && reflect.DeepEqual(r.pkg, x.pkg)
}

func (r *dirRes) Check(ctx context.Context) ([]Delta, error) { return r.run(ctx, false) }
func (r *dirRes) Apply(ctx context.Context) ([]Delta, error) { return r.run(ctx, true) }

func (r *dirRes) Purge(ctx context.Context) ([]Delta, error) {
	gone := *r
	gone.d.Ensure = "absent"
	return gone.run(ctx, true)
}

func (r *dirRes) run(ctx context.Context, apply bool) ([]Delta, error) {
	path := r.d.Name
	o, err := look(ctx, path)
	if err != nil {
		return nil, err
	}
	defer func() { o.close() }()
	st, exists := o.st, o.exists
	isDir := o.kind() == unix.S_IFDIR
	if r.d.Absent() {
		if !exists {
			return nil, nil
		}
		if !isDir {
			return nil, fmt.Errorf("ensure absent: %s is not a directory; not removing it", path)
		}
		if apply {
			// Only an empty directory: removing a tree is what purge_unmanaged
			// on the parent is for, and a typo must not wipe data.
			if err := unix.Unlinkat(o.dir.Fd(), o.base, unix.AT_REMOVEDIR); err != nil {
				return nil, fmt.Errorf("remove %s (only empty directories are removed): %w", path, err)
			}
		}
		return []Delta{{Attr: whatRemoved}}, nil
	}
	uid, err := r.env.lookupUID(r.d.Owner)
	if err != nil {
		return nil, err
	}
	gid, err := r.env.lookupGID(r.d.Group)
	if err != nil {
		return nil, err
	}
	mode := fileMode(r.d.DirMode)
	var what []Delta
	switch {
	case !exists:
		what = append(what, Delta{Attr: whatCreated})
		if apply {
			if err := o.makeParent(ctx, path); err != nil {
				return nil, err
			}
			if err := unix.Mkdirat(o.dir.Fd(), o.base, safepath.UnixMode(mode)); err != nil {
				return nil, fmt.Errorf("mkdir %s: %w", path, err)
			}
			if err := setAttrsAt(o.dir, o.base, unix.S_IFDIR, uid, gid, mode); err != nil {
				return nil, err
			}
			if err := o.dir.Sync(); err != nil {
				return nil, err
			}
		}
	case !isDir:
		return nil, fmt.Errorf("%s exists and is a %s, not a directory", path, unixType(st.Mode))
	default:
		fix := false
		if m := st.Mode & 0o7777; m != r.d.DirMode {
			what = append(what, delta("mode", fmt.Sprintf("%04o", m), fmt.Sprintf("%04o", r.d.DirMode)))
			fix = true
		}
		if uid >= 0 && uint32(uid) != st.Uid {
			what = append(what, delta("owner", fmt.Sprint(st.Uid), fmt.Sprint(uid)))
			fix = true
		}
		if gid >= 0 && uint32(gid) != st.Gid {
			what = append(what, delta("group", fmt.Sprint(st.Gid), fmt.Sprint(gid)))
			fix = true
		}
		if fix && apply {
			if err := setAttrsAt(o.dir, o.base, unix.S_IFDIR, uid, gid, mode); err != nil {
				return nil, err
			}
		}
	}
	if r.d.Source != "" && (exists || apply) {
		mw, err := r.mirror(ctx, apply)
		what = append(what, mw...)
		if err != nil {
			return what, err
		}
	}
	if r.d.PurgeUnmanaged && exists {
		pw, err := r.purgeEntries(apply)
		if err != nil {
			return what, err
		}
		what = append(what, pw...)
	}
	return what, nil
}

// purgeEntries removes (or, !apply, lists) entries no resource manages.
func (r *dirRes) purgeEntries(apply bool) ([]Delta, error) {
	d, err := safepath.Open(r.d.Name)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	fd, err := openDirAt(d)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	ents, err := readDirNames(fd)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", r.d.Name, err)
	}
	var names []string
	fromSource := map[string]bool{}
	if r.d.Source != "" {
		fromSource = r.sourceNames()
	}
	for _, n := range ents {
		if !r.managed[n] && !fromSource[n] && !safepath.IsTemp(n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var what []Delta
	for _, n := range names {
		if apply {
			if err := removeAllAt(fd, n); err != nil {
				return what, fmt.Errorf("purge %s/%s: %w", r.d.Name, n, err)
			}
		}
		what = append(what, delta("purged", n, ""))
	}
	return what, nil
}

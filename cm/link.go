package cm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"

	"github.com/unit-os/unit/config"
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

func (r *linkRes) Check(ctx context.Context) ([]Delta, error) { return r.run(false) }
func (r *linkRes) Apply(ctx context.Context) ([]Delta, error) { return r.run(true) }

func (r *linkRes) Purge(ctx context.Context) ([]Delta, error) {
	gone := *r
	gone.l.Ensure = "absent"
	return gone.run(true)
}

func (r *linkRes) run(apply bool) ([]Delta, error) {
	return ensureLink(r.l.Name, r.l.Target, r.l.Absent(), apply)
}

// ensureLink makes path a symlink to target (or, absent, no symlink).
func ensureLink(path, target string, absent, apply bool) ([]Delta, error) {
	fi, err := os.Lstat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	exists := err == nil
	isLink := exists && fi.Mode()&os.ModeSymlink != 0
	if exists && !isLink {
		if fi.IsDir() {
			return nil, fmt.Errorf("%s is a directory, not a symlink; not replacing it", path)
		}
		return nil, fmt.Errorf("%s is a %s, not a symlink; not replacing it", path, describe(fi.Mode()))
	}
	cur := ""
	if isLink {
		if cur, err = os.Readlink(path); err != nil {
			return nil, err
		}
	}
	if absent {
		if !isLink {
			return nil, nil
		}
		if apply {
			if err := os.Remove(path); err != nil {
				return nil, err
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
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	// A symlink made under a temp name and renamed over: atomic replace.
	tmp := filepath.Join(filepath.Dir(path), tempPrefix(filepath.Base(path))+"link")
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return nil, err
	}
	return what, syncDir(filepath.Dir(path))
}

func describe(m os.FileMode) string {
	if m.IsRegular() {
		return "regular file"
	}
	return fileType(m)
}

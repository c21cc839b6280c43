package cm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/kmod"
)

// moduleRes is a [module.NAME]: a kernel module kept loaded (with its
// dependencies, through kmod's modules.dep closure and finit_module).
type moduleRes struct {
	m   config.Module
	env *env
}

func newModule(m *config.Module, b *builder) *moduleRes { return &moduleRes{m: *m, env: b.env} }

func (r *moduleRes) ID() string         { return "module:" + r.m.Name }
func (r *moduleRes) Notifies() []string { return r.m.Notify }
func (r *moduleRes) Watches() []string  { return nil }
func (r *moduleRes) Same(o Resource) bool {
	x, ok := o.(*moduleRes)
	return ok && reflect.DeepEqual(r.m, x.m)
}

// Check looks for /sys/module/NAME, which exists for loaded and built-in
// modules alike.
func (r *moduleRes) Check(ctx context.Context) ([]Delta, error) {
	name := strings.ReplaceAll(r.m.Name, "-", "_")
	_, err := os.Stat(filepath.Join(r.env.sysModule, name))
	switch {
	case err == nil:
		return nil, nil
	case errors.Is(err, fs.ErrNotExist):
		return []Delta{delta("loaded", "no", "yes")}, nil
	}
	return nil, fmt.Errorf("module %s: %w", r.m.Name, err)
}

func (r *moduleRes) Apply(ctx context.Context) ([]Delta, error) {
	what, err := r.Check(ctx)
	if err != nil || len(what) == 0 {
		return nil, err
	}
	l := r.env.modules
	if l == nil {
		kl, err := kmod.NewLoader("")
		if err != nil {
			return nil, fmt.Errorf("module %s: %w", r.m.Name, err)
		}
		l = kl
	}
	loaded, err := l.Load(r.m.Name)
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", r.m.Name, err)
	}
	if len(loaded) > 1 {
		what = append(what, Delta{Attr: "with dependencies", New: strings.Join(loaded[:len(loaded)-1], ",")})
	}
	return what, nil
}

package cm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/unit-os/unit/config"
)

// sysctlRes is a [sysctl."KEY"]: one value under /proc/sys. procfs has no
// inotify, so it is checked on config changes and explicit applies only.
type sysctlRes struct {
	s   config.Sysctl
	env *env
}

func newSysctl(s *config.Sysctl, b *builder) *sysctlRes { return &sysctlRes{s: *s, env: b.env} }

func (r *sysctlRes) ID() string         { return "sysctl:" + r.s.Name }
func (r *sysctlRes) Notifies() []string { return r.s.Notify }
func (r *sysctlRes) Watches() []string  { return nil }
func (r *sysctlRes) Same(o Resource) bool {
	x, ok := o.(*sysctlRes)
	return ok && reflect.DeepEqual(r.s, x.s)
}

// file maps "net.ipv4.ip_forward" to /proc/sys/net/ipv4/ip_forward; a key
// written with slashes is taken as is (for names that contain dots).
func (r *sysctlRes) file() string {
	k := r.s.Name
	if !strings.Contains(k, "/") {
		k = strings.ReplaceAll(k, ".", "/")
	}
	return filepath.Join(r.env.procSys, k)
}

// normalize compares values the way the kernel prints them: whitespace
// between fields does not matter ("4096 87380" == "4096\t87380").
func normalize(v string) string { return strings.Join(strings.Fields(v), " ") }

func (r *sysctlRes) Check(ctx context.Context) ([]Delta, error) {
	cur, err := os.ReadFile(r.file())
	if err != nil {
		return nil, fmt.Errorf("sysctl %s: %w", r.s.Name, err)
	}
	if c, w := normalize(string(cur)), normalize(r.s.Value); c != w {
		return []Delta{delta("value", c, w)}, nil
	}
	return nil, nil
}

func (r *sysctlRes) Apply(ctx context.Context) ([]Delta, error) {
	what, err := r.Check(ctx)
	if err != nil || len(what) == 0 {
		return nil, err
	}
	f, err := os.OpenFile(r.file(), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return nil, fmt.Errorf("sysctl %s: %w", r.s.Name, err)
	}
	_, err = f.WriteString(normalize(r.s.Value) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("sysctl %s = %q: %w", r.s.Name, r.s.Value, err)
	}
	// The kernel may round or refuse silently: say so rather than loop.
	if again, err := r.Check(ctx); err != nil || len(again) > 0 {
		return nil, fmt.Errorf("sysctl %s: kernel kept %v after writing %q", r.s.Name, again, r.s.Value)
	}
	return what, nil
}

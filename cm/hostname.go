package cm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/unit-os/unit/safepath"
	"golang.org/x/sys/unix"
)

// hostnameRes keeps the kernel's hostname (and, if configured, the
// hostname file) equal to [system] hostname.
type hostnameRes struct {
	name string
	env  *env
}

// planHostname: [system] hostname is a resource when the engine manages
// the hostname (WithHostname).
func planHostname(b *builder, put func(Resource, bool, bool)) {
	if h := b.cfg.System.Hostname; h != "" && b.env.hostname {
		put(&hostnameRes{name: h, env: b.env}, false, false)
	}
}

func (r *hostnameRes) ID() string         { return "hostname:" + r.name }
func (r *hostnameRes) Notifies() []string { return nil }
func (r *hostnameRes) Watches() []string {
	if r.env.hostnameFile != "" {
		return []string{r.env.hostnameFile}
	}
	return nil
}
func (r *hostnameRes) Same(o Resource) bool {
	x, ok := o.(*hostnameRes)
	return ok && x.name == r.name
}

func (r *hostnameRes) Check(ctx context.Context) ([]Delta, error) { return r.run(false) }
func (r *hostnameRes) Apply(ctx context.Context) ([]Delta, error) { return r.run(true) }

func (r *hostnameRes) run(apply bool) ([]Delta, error) {
	var what []Delta
	cur, err := currentHostname()
	if err != nil {
		return nil, err
	}
	if cur != r.name {
		what = append(what, delta("hostname", cur, r.name))
		if apply {
			if err := unix.Sethostname([]byte(r.name)); err != nil {
				return nil, fmt.Errorf("sethostname %q: %w", r.name, err)
			}
		}
	}
	if f := r.env.hostnameFile; f != "" {
		want := []byte(r.name + "\n")
		data, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if !bytes.Equal(data, want) {
			what = append(what, delta(f, string(bytes.TrimSpace(data)), r.name))
			if apply {
				if err := safepath.WriteFile(f, want, 0o644, -1, -1); err != nil {
					return nil, err
				}
			}
		}
	}
	return what, nil
}

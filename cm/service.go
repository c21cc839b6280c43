package cm

import (
	"context"
	"fmt"
	"strings"

	"github.com/unit-os/unit/config"
)

// serviceRes is a [service.NAME] as the configuration manager sees it: a
// node in the graph (after its user and the files that notify it), a notify
// target (restart), and, when enabled, a desired state of running. The
// supervisor owns the process; this only asks it to start a service an
// operator stopped, on the next config change or `unit apply`.
type serviceRes struct {
	name    string
	user    string
	enabled bool
	env     *env
}

func newService(s *config.Service, b *builder) *serviceRes {
	return &serviceRes{name: s.Name, user: s.User, enabled: s.IsEnabled(), env: b.env}
}

func (r *serviceRes) ID() string         { return "service:" + r.name }
func (r *serviceRes) Notifies() []string { return nil }
func (r *serviceRes) Watches() []string  { return nil }
func (r *serviceRes) Same(o Resource) bool {
	x, ok := o.(*serviceRes)
	return ok && *x == *r
}

// After: its user, when the config manages it.
func (r *serviceRes) After() []string {
	if r.user == "" {
		return nil
	}
	return []string{"user:" + r.user}
}

func (r *serviceRes) Check(ctx context.Context) ([]Delta, error) {
	ctl, ok := r.env.svc.(ServiceControl)
	if !ok || !r.enabled {
		return nil, nil
	}
	st, err := ctl.State(ctx, r.name)
	if err != nil {
		// The supervisor gets services through its own SetConfig, which may
		// not have happened yet: it owns the lifecycle, we only nudge.
		r.env.log.Debug("cm: service state unknown", "service", r.name, "err", err)
		return nil, nil
	}
	if st == "stopped" {
		return []Delta{delta("state", st, "running")}, nil
	}
	return nil, nil
}

func (r *serviceRes) Apply(ctx context.Context) ([]Delta, error) {
	what, err := r.Check(ctx)
	if err != nil || len(what) == 0 {
		return nil, err
	}
	if err := r.env.svc.(ServiceControl).Start(ctx, r.name); err != nil {
		return nil, fmt.Errorf("start %s: %w", r.name, err)
	}
	return what, nil
}

// Refresh restarts the service (a notify).
func (r *serviceRes) Refresh(ctx context.Context) ([]Delta, error) {
	if r.env.svc == nil {
		r.env.log.Warn("cm: no supervisor; not restarting", "service", r.name)
		return nil, nil
	}
	// Like systemd's try-restart: a service that is not up yet (waiting,
	// in backoff, stopped by an operator) reads the new file when it
	// starts; restarting it would start it early or against a stop.
	if ctl, ok := r.env.svc.(ServiceControl); ok {
		if st, err := ctl.State(ctx, r.name); err != nil || (st != "running" && st != "starting") {
			return nil, nil
		}
	}
	if err := r.env.svc.Restart(ctx, r.name); err != nil {
		return nil, fmt.Errorf("restart %s: %w", r.name, err)
	}
	return []Delta{{Attr: "restarted"}}, nil
}

// Restarts: a refresh restarts the supervisor's process (a restarter).
func (r *serviceRes) Restarts() bool { return true }

// bareTarget is the notify target for an id no resource of the config
// defines: a service the supervisor runs without a [service] table of
// the config manager is still restarted; any other id has none.
func bareTarget(id string, en *env) Resource {
	if name, ok := strings.CutPrefix(id, "service:"); ok {
		return &serviceRes{name: name, env: en}
	}
	return nil
}

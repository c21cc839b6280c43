package daemon

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/supervise"
)

// maxStateWait bounds a `status` request that waits for the daemon to
// leave starting. How many may wait at once is the control socket's
// connection caps (api.Serve), as for a follow.
const maxStateWait = 10 * time.Minute

// phase is the daemon's own state as far as Run knows it:
// api.SystemStarting, api.SystemRunning (the services are handed over:
// status then says running or degraded) or api.SystemStopping.
type phase struct {
	mu      sync.Mutex
	now     string
	changed chan struct{} // closed, and replaced, at every change
}

func newPhase() *phase {
	return &phase{now: api.SystemStarting, changed: make(chan struct{})}
}

// set moves to p and wakes every waiting client.
func (ph *phase) set(p string) {
	ph.mu.Lock()
	defer ph.mu.Unlock()
	if ph.now == p {
		return
	}
	ph.now = p
	close(ph.changed)
	ph.changed = make(chan struct{})
}

func (ph *phase) get() (string, <-chan struct{}) {
	ph.mu.Lock()
	defer ph.mu.Unlock()
	return ph.now, ph.changed
}

// waitStarted returns once the phase is no longer starting, after d
// (at most maxStateWait), or when ctx ends (the client hung up).
func (ph *phase) waitStarted(ctx context.Context, d time.Duration) {
	p, changed := ph.get()
	if p != api.SystemStarting || d <= 0 {
		return
	}
	timer := time.NewTimer(min(d, maxStateWait))
	defer timer.Stop()
	for p == api.SystemStarting {
		select {
		case <-changed:
			p, changed = ph.get()
		case <-timer.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// statusReply answers `status` for name ("" for every service), with the
// daemon's state. The state judges every service, so with a name the
// whole status is read too.
func (d *Daemon) statusReply(ctx context.Context, name string) (api.StatusReply, error) {
	p, _ := d.phase.get()
	all, err := d.sup.Status(ctx, "")
	if err != nil {
		return api.StatusReply{}, err
	}
	rep := api.StatusReply{State: p, Services: apiServices(all), ConfigError: d.engine.LastConfigError(), Release: d.opts.Release,
		InotifyOverflows: d.engine.InotifyOverflows()}
	for _, f := range d.engine.Failing() {
		rep.Failed = append(rep.Failed, api.FailedResource{Resource: f.Resource, Error: f.Error})
	}
	if p == api.SystemRunning && rep.Degraded() {
		rep.State = api.SystemDegraded
	}
	if d.opts.Slots != nil {
		for _, st := range d.opts.Slots.Status() {
			rep.Slots = append(rep.Slots, api.SlotStatus(st))
		}
	}
	if name == "" {
		rep.LastLog = d.lastLogs(all, 3)
		return rep, nil
	}
	rep.InotifyOverflows, rep.Failed = 0, nil
	sts, err := d.sup.Status(ctx, name)
	rep.Services, rep.LastLog = apiServices(sts), d.lastLogs(sts, 3)
	if err != nil && p == api.SystemStarting {
		// Not a lie about the service: it may be in the config, which is
		// not handed over yet.
		return rep, fmt.Errorf("%w (unit is starting: services are handed over after the first convergence)", err)
	}
	return rep, err
}

// apiServices is the supervisor's status on the wire (nil stays nil:
// "services": null, as before api had its own type).
func apiServices(sts []supervise.Status) []api.ServiceStatus {
	if sts == nil {
		return nil
	}
	out := make([]api.ServiceStatus, len(sts))
	for i, st := range sts {
		out[i] = api.ServiceStatus(st)
	}
	return out
}

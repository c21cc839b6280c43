package supervise

import (
	"context"
	"errors"
	"iter"
	"maps"
	"slices"
	"time"

	"github.com/unit-os/unit/config"
)

// SetConfig replaces the desired set of services: new ones start (if
// enabled), removed ones stop, changed ones restart, identical ones are left
// alone (a service someone stopped stays stopped across unrelated reloads).
// enabled only decides what starts by itself: turning it off does not stop
// a running service.
func (s *Supervisor) SetConfig(ctx context.Context, services map[string]*config.Service) error {
	return s.call(ctx, func() error {
		s.invalidate()
		for name, v := range s.services {
			if _, ok := services[name]; !ok {
				v.wanted, v.restartPending, v.remove = false, false, true
			}
		}
		var start []*service
		for _, name := range slices.Sorted(maps.Keys(services)) {
			cfg := services[name]
			v := s.services[name]
			if v == nil {
				v = &service{name: name, cfg: cfg, state: StateStopped, since: time.Now()}
				s.services[name] = v
				s.ringFor(name)
				start = append(start, v)
				continue
			}
			old, revived := v.cfg, v.remove
			v.cfg, v.remove = cfg, false
			changed := !sameService(old, cfg)
			switch {
			case changed && v.active() && (v.wanted || (revived && cfg.IsEnabled())):
				// Stop only to start again; dependents keep running.
				v.restartPending, v.wanted = true, false
			case revived, cfg.IsEnabled() && !old.IsEnabled():
				start = append(start, v)
			case changed && (v.state == StateExited || v.state == StateFailed || v.state == StateBackoff):
				start = append(start, v) // a new config earns a fresh start
			}
		}
		s.syncLogFiles(services)
		// Want after every service exists: want pulls in what a service requires.
		for _, v := range start {
			if v.cfg.IsEnabled() && !s.shutdown {
				s.clearFailed(v)
				s.want(v)
			}
		}
		s.reconcileAll()
		return nil
	})
}

// Start asks for a service (and what it requires) to run, clearing a failed
// or exited state and skipping a pending backoff.
func (s *Supervisor) Start(ctx context.Context, name string) error {
	return s.call(ctx, func() error {
		v, err := s.lookup(name)
		if err != nil {
			return err
		}
		if s.shutdown {
			return errShuttingDown
		}
		s.clearFailed(v)
		s.want(v)
		s.reconcileAll()
		return nil
	})
}

// clearFailed forgets past crashes so that a wanted service spawns at once.
// The state change is silent: the spawn (or wait) that follows reports it.
func (s *Supervisor) clearFailed(v *service) {
	v.failedHard = false
	v.restarts = 0
	switch v.state {
	case StateExited, StateFailed, StateBackoff:
		s.disarm(v)
		v.state = StateStopped
	}
}

// want marks v and, transitively, what it requires as wanted.
func (s *Supervisor) want(v *service) {
	v.wanted = true
	for _, r := range v.cfg.Requires {
		if d := s.services[serviceName(r)]; d != nil && !d.wanted && !d.remove {
			s.clearFailed(d)
			s.want(d)
		}
	}
}

// Stop stops a service and, first, everything that requires it; it returns
// once they have all exited.
func (s *Supervisor) Stop(ctx context.Context, name string) error {
	done := make(chan struct{})
	err := s.call(ctx, func() error {
		v, err := s.lookup(name)
		if err != nil {
			return err
		}
		stopping := s.unwant(v, nil)
		s.waitUntil(done, func() bool { return allIdle(slices.Values(stopping)) })
		s.reconcileAll()
		return nil
	})
	if err != nil {
		return err
	}
	return s.await(ctx, done)
}

// unwant marks v and everything that requires it as not wanted, and returns
// them (added to acc).
func (s *Supervisor) unwant(v *service, acc []*service) []*service {
	v.wanted = false
	v.restartPending = false
	acc = append(acc, v)
	for _, d := range s.dependents(v.name) {
		if (d.wanted || d.restartPending || d.active()) && !slices.Contains(acc, d) {
			acc = s.unwant(d, acc)
		}
	}
	return acc
}

func allIdle(vs iter.Seq[*service]) bool {
	for v := range vs {
		if v.active() {
			return false
		}
	}
	return true
}

// Restart stops the service (if running) and starts it again. Dependents
// keep running: a restart is not a stop. It returns once the stop signal is
// sent, not when the service is back.
func (s *Supervisor) Restart(ctx context.Context, name string) error {
	return s.call(ctx, func() error {
		v, err := s.lookup(name)
		if err != nil {
			return err
		}
		if s.shutdown {
			return errShuttingDown
		}
		if !v.active() {
			s.clearFailed(v)
			s.want(v)
		} else {
			v.restarts = 0
			v.restartPending, v.wanted = true, false
			s.beginStop(v)
		}
		s.reconcileAll()
		return nil
	})
}

// errShuttingDown refuses starts once Shutdown began: nothing may come
// back up behind the ordered stop.
var errShuttingDown = errors.New("shutting down: no service starts")

// Shutdown stops every service in reverse dependency order and returns when
// all have exited or ctx ends.
func (s *Supervisor) Shutdown(ctx context.Context) error {
	done := make(chan struct{})
	err := s.call(ctx, func() error {
		s.shutdown = true
		for _, v := range s.services {
			v.wanted = false
			v.restartPending = false
		}
		s.waitUntil(done, func() bool { return allIdle(maps.Values(s.services)) })
		s.reconcileAll()
		return nil
	})
	if err != nil {
		return err
	}
	return s.await(ctx, done)
}

// WaitReady returns a channel closed once every wanted service is running,
// done (exited), or cannot start because something it requires failed; used
// to time boot.
func (s *Supervisor) WaitReady(ctx context.Context) (<-chan struct{}, error) {
	ch := make(chan struct{})
	err := s.call(ctx, func() error {
		s.waitUntil(ch, s.allReady)
		s.checkWaiters()
		return nil
	})
	return ch, err
}

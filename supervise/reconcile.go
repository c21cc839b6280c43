package supervise

import (
	"os"
	"slices"
	"strings"
)

// reconcile moves the services that may have to act one step toward what
// is wanted; it is called after every message. Only the dirty services are
// visited (dirty.go): those whose own state, or that of what they require or
// of what requires them, changed since their last visit. Anything else
// would decide as it did then, so a restart costs the same with 10 services
// or 1,000.
func (s *Supervisor) reconcile() {
	if s.passing {
		// Called from a step (a stop that settled at once): the pass
		// under way goes on, and another follows it for what this call
		// would have done (what was marked behind the cursor).
		s.rerun = true
		return
	}
	s.graph() // orders the dirty ones (ord)
	q := s.dirty
	s.dirty = nil
	slices.SortFunc(q, byOrd)
	s.queue, s.passing = q, true
	defer s.abandonPass() // a step that panics must not stop every later pass
	var seen []*service
	for len(s.queue) > 0 {
		v := s.queue[0]
		s.queue = s.queue[1:]
		v.dirty = false
		if s.services[v.name] != v {
			continue // removed meanwhile
		}
		s.cursor = v.ord
		s.visits++
		seen = append(seen, v)
		s.step(v)
	}
	s.queue, s.passing = nil, false
	rerun := s.rerun
	s.rerun = false
	if s.settle(append(seen, s.dirty...)) || rerun {
		s.reconcile()
		return
	}
	s.checkWaiters()
}

// abandonPass ends a pass a panic cut short: what it had yet to visit
// waits for the next one.
func (s *Supervisor) abandonPass() {
	if s.passing {
		s.dirty = append(s.dirty, s.queue...)
		s.queue, s.passing, s.rerun = nil, false, false
	}
}

// step is one service's part of a pass, in requires order: what a service
// requires is visited before it, so a requirement that fails or finishes
// in this pass is seen by its dependents in the same pass.
func (s *Supervisor) step(v *service) {
	switch {
	case !v.wanted && v.active():
		// A stop waits for dependents to stop first; a restart does not
		// (they keep running).
		if v.restartPending || !s.dependentsActive(v.name) {
			s.beginStop(v)
		}
	case !v.wanted && (v.state == StateWaiting || v.state == StateBackoff):
		s.disarm(v)
		s.setState(v, StateStopped, "", nil)
	case v.wanted && !v.active() && v.state != StateBackoff && !v.failedHard:
		if v.state == StateExited {
			return // ran to completion; stays exited until started again
		}
		if why := s.blockedBy(v); why != "" {
			s.setState(v, StateWaiting, why, nil)
			return
		}
		s.spawn(v)
	}
}

// settle ends a pass over the services it visited and those left dirty: a
// stopped restart is wanted again (it reports whether another pass is
// due), a removed service is forgotten once stopped.
func (s *Supervisor) settle(vs []*service) (again bool) {
	slices.SortFunc(vs, func(a, b *service) int { return strings.Compare(a.name, b.name) })
	vs = slices.Compact(vs)
	var gone []*service
	for _, v := range vs {
		if s.services[v.name] != v || v.active() {
			continue
		}
		switch {
		case v.restartPending:
			v.restartPending, v.wanted = false, true
			s.touch(v)
			again = true
		case v.remove:
			s.disarm(v)
			if v.cgroup != "" {
				_ = os.Remove(v.cgroup) // fails harmlessly (EBUSY) while leftovers die
			}
			gone = append(gone, v)
		}
	}
	for _, v := range gone {
		for _, d := range s.dependents(v.name) {
			s.touch(d) // now "not configured"
		}
	}
	for _, v := range gone {
		delete(s.services, v.name)
		s.invalidate()
	}
	return again
}

func (s *Supervisor) dependentsActive(name string) bool {
	for _, d := range s.dependents(name) {
		if d.active() {
			return true
		}
	}
	return false
}

// blockedBy says why v cannot start yet, or "".
func (s *Supervisor) blockedBy(v *service) string {
	for _, r := range v.cfg.Requires {
		d := s.services[serviceName(r)]
		switch {
		case d == nil || d.remove:
			return r + " is not configured"
		case d.state == StateRunning, d.state == StateExited && d.exitOK:
		case d.state == StateFailed:
			return r + " failed"
		case d.state == StateExited:
			return r + " exited (" + d.lastExit + ")"
		default:
			return "waiting for " + r
		}
	}
	return ""
}

// stuck reports whether v waits for something that will not come without
// someone acting: a requirement that failed or exited unsuccessfully.
func (s *Supervisor) stuck(v *service, depth int) bool {
	if v.state != StateWaiting || depth > len(s.services) {
		return false
	}
	for _, r := range v.cfg.Requires {
		d := s.services[serviceName(r)]
		switch {
		case d == nil, d.state == StateFailed, d.state == StateExited && !d.exitOK:
			return true
		case s.stuck(d, depth+1):
			return true
		}
	}
	return false
}

// waitUntil closes ch once cond holds; conditions are checked after every
// reconcile, on the loop.
func (s *Supervisor) waitUntil(ch chan struct{}, cond func() bool) {
	s.waiters = append(s.waiters, waiter{cond, ch})
}

type waiter struct {
	cond func() bool
	ch   chan struct{}
}

func (s *Supervisor) checkWaiters() {
	kept := s.waiters[:0]
	for _, w := range s.waiters {
		if w.cond() {
			close(w.ch)
		} else {
			kept = append(kept, w)
		}
	}
	clear(s.waiters[len(kept):])
	s.waiters = kept
}

// allReady: every wanted service is running, done, or stuck behind a
// requirement that will not come up by itself.
func (s *Supervisor) allReady() bool {
	for _, v := range s.services {
		if v.wanted && v.state != StateRunning && v.state != StateExited && !s.stuck(v, 0) {
			return false
		}
	}
	return true
}

package supervise

import "os"

// reconcile moves every service one step toward what is wanted; it is called
// after every message, and is cheap (a pass over the services).
func (s *Supervisor) reconcile() {
	for _, v := range s.byRequires() {
		name := v.name
		switch {
		case !v.wanted && v.active():
			// A stop waits for dependents to stop first; a restart does not
			// (they keep running).
			if v.restartPending || !s.dependentsActive(name) {
				s.beginStop(v)
			}
		case !v.wanted && (v.state == StateWaiting || v.state == StateBackoff):
			s.disarm(v)
			s.setState(v, StateStopped, "", nil)
		case v.wanted && !v.active() && v.state != StateBackoff && !v.failedHard:
			if v.state == StateExited {
				continue // ran to completion; stays exited until started again
			}
			if why := s.blockedBy(v); why != "" {
				s.setState(v, StateWaiting, why, nil)
				continue
			}
			s.spawn(v)
		}
	}
	again := false
	for _, name := range s.graph().names {
		v := s.services[name]
		if v == nil || v.active() {
			continue
		}
		switch {
		case v.restartPending:
			v.restartPending, v.wanted = false, true
			again = true
		case v.remove:
			s.disarm(v)
			if v.cgroup != "" {
				_ = os.Remove(v.cgroup) // fails harmlessly (EBUSY) while leftovers die
			}
			delete(s.services, name)
			s.invalidate()
		}
	}
	if again {
		s.reconcile()
		return
	}
	s.checkWaiters()
}

// byRequires orders services so that what a service requires comes before
// it: a requirement that fails or finishes in this pass is seen by its
// dependents in the same pass.
func (s *Supervisor) byRequires() []*service { return s.graph().order }

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

package supervise

import (
	"cmp"
	"slices"
)

// A service is dirty when something its next reconcile step reads may have
// changed: its own state or wants, the state of what it requires (blockedBy)
// or of what requires it (a stop waits for dependents). setState marks all
// three; code that changes such a field without setState marks it itself.
// A pass visits the dirty services in requires order. One marked during the
// pass is visited in the same pass if it comes later in that order, as a
// pass over every service would; one that comes earlier waits for the next
// pass, as it would have too.

// touch marks v dirty.
func (s *Supervisor) touch(v *service) {
	if v == nil || v.dirty {
		return
	}
	v.dirty = true
	if s.passing && v.ord > s.cursor && s.graphCache != nil {
		i, _ := slices.BinarySearchFunc(s.queue, v, byOrd)
		s.queue = slices.Insert(s.queue, i, v)
		return
	}
	s.dirty = append(s.dirty, v)
}

// touchAround marks v, what it requires and what requires it.
func (s *Supervisor) touchAround(v *service) {
	s.touch(v)
	for _, r := range v.cfg.Requires {
		s.touch(s.services[serviceName(r)])
	}
	for _, d := range s.dependents(v.name) {
		s.touch(d)
	}
}

// touchAll marks every service: commands (a new config, start, stop) may
// change anything.
func (s *Supervisor) touchAll() {
	for _, v := range s.services {
		s.touch(v)
	}
}

// reconcileFor is reconcile after a message about v.
func (s *Supervisor) reconcileFor(v *service) {
	s.touchAround(v)
	s.reconcile()
}

// reconcileAll is reconcile after a command.
func (s *Supervisor) reconcileAll() {
	s.touchAll()
	s.reconcile()
}

func byOrd(a, b *service) int { return cmp.Compare(a.ord, b.ord) }

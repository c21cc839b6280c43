package cm

import (
	"strings"
	"sync"
	"time"
)

// Stats are the engine's counters since it started, for metrics.
type Stats struct {
	Passes       int64            // convergence passes, dry runs left out
	Changes      int64            // resources changed (drift repairs included)
	Repairs      int64            // drift repairs
	Failures     int64            // resources that failed a pass
	Failing      int              // resources whose last pass failed
	LastPass     time.Time        // when the last pass started
	LastDuration time.Duration    // how long it took
	Resources    map[string]int64 // managed resources by kind (file, dir, service, ...)
}

// stats is what passes add to, under its own lock (passes run beside
// the loop in the background lane).
type stats struct {
	mu sync.Mutex
	s  Stats
}

// count adds one resource's result as the pass has it, before its event
// is sent: whoever reads the counters on that event (the metrics textfile)
// sees the change counted.
func (st *stats) count(result string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	switch result {
	case "changed", "removed", "refreshed", "purged":
		st.s.Changes++
	case "repaired":
		st.s.Changes++
		st.s.Repairs++
	case "failed":
		st.s.Failures++
	}
}

// record adds a finished pass (its results were counted as they came).
func (st *stats) record(rep *Report) {
	if rep.DryRun {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.s.Passes++
	st.s.LastPass, st.s.LastDuration = rep.Time, rep.Duration
}

// plan counts the resources of a new plan by kind.
func (st *stats) plan(p *plan) {
	by := map[string]int64{}
	for id := range p.res {
		kind, _, _ := strings.Cut(id, ":")
		by[kind]++
	}
	st.mu.Lock()
	st.s.Resources = by
	st.mu.Unlock()
}

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	e.stats.mu.Lock()
	s := e.stats.s
	s.Resources = make(map[string]int64, len(e.stats.s.Resources))
	for k, v := range e.stats.s.Resources {
		s.Resources[k] = v
	}
	e.stats.mu.Unlock()
	s.Failing = len(e.Failing())
	return s
}

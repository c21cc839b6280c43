package supervise

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/unit-os/unit/config"
)

func (h *harness) visits() int {
	h.t.Helper()
	var n int
	if err := h.s.call(h.ctx, func() error { n = h.s.visits; return nil }); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// An exit visits the service that exited and its neighbours, not every
// service: with a pass over all of them, 1,000 services cost 1,000 visits
// per exit.
func TestReconcileVisitsOnlyAffected(t *testing.T) {
	const n = 40
	h := newHarness(t)
	svcs := map[string]*config.Service{
		"db":  {Exec: []string{"sleep", "1000"}},
		"web": {Exec: []string{"sleep", "1000"}, Requires: []string{"db"}},
	}
	for i := range n {
		svcs[fmt.Sprintf("idle%02d", i)] = &config.Service{Exec: []string{"sleep", "1000"}}
	}
	h.set(svcs)
	ready, err := h.s.WaitReady(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	<-ready
	webPID := h.status("web").PID
	restart := func() {
		from := h.rec.len()
		if err := syscall.Kill(h.status("db").PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		h.rec.waitFrom(t, from, "db", StateRunning)
	}
	// The first pass after the start visits each service once more (its
	// own start marked it); from then on only the neighbours.
	restart()
	before := h.visits()
	restart()
	visits := h.visits() - before
	// db exits, restarts and is running: a few passes over db and web.
	if visits > 10 {
		t.Errorf("one restart visited %d services; there are %d", visits, n+2)
	}
	if st := h.status("web"); st.State != StateRunning || st.PID != webPID {
		t.Errorf("web after db's restart: %+v (a restart is not a stop)", st)
	}
}

// A service waiting for its requirement starts when the requirement
// becomes ready in a later message (not in the pass that spawned it).
func TestReconcileWaitingStartsOnReady(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"db":  {Exec: []string{self}, Env: map[string]string{"UNIT_TEST_HELPER": "notify"}, Ready: "notify"},
		"web": {Exec: []string{"sleep", "1000"}, Requires: []string{"db"}},
	})
	h.rec.wait(t, "web", StateWaiting)
	h.rec.wait(t, "db", StateRunning)
	h.rec.wait(t, "web", StateRunning)
}

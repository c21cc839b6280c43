package supervise

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/event"
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

// A stop that settles a service inside a pass (a forking start still
// awaiting its pid file ends at once) runs a pass of its own: what it
// requires stops in the same call, and the services after it in the outer
// pass are still visited (zz, left marked but in no list, would never be
// visited again: its crash would not restart it).
func TestStopSettledInsidePass(t *testing.T) {
	pf := filepath.Join(t.TempDir(), "never.pid")
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"db":     {Exec: []string{"sleep", "1000"}},
		"forker": {Exec: sh("exit 0"), Ready: "forking", PIDFile: pf, Requires: []string{"db"}},
		"zz":     {Exec: []string{"sleep", "1000"}},
	})
	h.rec.wait(t, "db", StateRunning)
	h.rec.wait(t, "zz", StateRunning)
	eventually(t, "forker to await its pid file", func() bool {
		waiting := false
		h.s.call(h.ctx, func() error {
			v := h.s.services["forker"]
			waiting = v != nil && v.forkExit != nil
			return nil
		})
		return waiting
	})
	ctx, cancel := context.WithTimeout(h.ctx, waitTimeout)
	defer cancel()
	if err := h.s.Stop(ctx, "db"); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if st := h.status("db"); st.State != StateStopped {
		t.Errorf("db %s", st.State)
	}
	from := h.rec.len()
	killPID(h.status("zz").PID)
	h.rec.waitFrom(t, from, "zz", StateStarting)
}

// A step that panics (a bug) costs its message only: the next passes run,
// and what the cut pass had yet to visit is visited by the next one.
func TestReconcileAfterPanic(t *testing.T) {
	rec := newRecorder()
	var once sync.Once
	emit := func(e event.Event) {
		if e.Resource == "service:a" && e.State == StateStarting {
			once.Do(func() { panic("a bug") })
		}
		rec.emit(e)
	}
	h := newHarness(t, WithEvents(emit))
	svcs := map[string]*config.Service{
		"a": {Exec: []string{"sleep", "1000"}, Restart: config.RestartAlways, Ready: "started"},
		"b": {Exec: []string{"sleep", "1000"}, Restart: config.RestartAlways, Ready: "started"},
	}
	for n, c := range svcs {
		c.Name = n
	}
	if err := h.s.SetConfig(h.ctx, svcs); err == nil {
		t.Fatal("the pass did not panic")
	}
	if err := h.s.Start(h.ctx, "b"); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, "b", StateRunning)
}

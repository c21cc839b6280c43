package supervise

import (
	"testing"

	"github.com/unit-os/unit/config"
)

// services returns a fresh config each call, as a reload would.
func services(bExec string) map[string]*config.Service {
	return map[string]*config.Service{
		"a":    {Exec: []string{"sleep", "100"}, Env: map[string]string{"K": "v"}},
		"b":    {Exec: []string{"sleep", bExec}, Requires: []string{"a"}},
		"gone": {Exec: []string{"sleep", "100"}},
	}
}

func TestSetConfig(t *testing.T) {
	h := newHarness(t)
	h.set(services("100"))
	for _, n := range []string{"a", "b", "gone"} {
		h.rec.wait(t, n, StateRunning)
	}
	pidA, pidB := h.status("a").PID, h.status("b").PID

	// Identical: nothing happens (SetConfig reconciles before it returns).
	mark := h.rec.len()
	h.set(services("100"))
	if evs := h.rec.since(mark); len(evs) != 0 {
		t.Errorf("identical config caused events: %v", evs)
	}
	if h.status("a").PID != pidA || h.status("b").PID != pidB {
		t.Error("identical config restarted a process")
	}

	// b changed, gone removed, new added disabled.
	cfg := services("101")
	delete(cfg, "gone")
	cfg["new"] = &config.Service{Exec: []string{"sleep", "100"}, Enabled: disabled()}
	h.set(cfg)
	h.rec.waitFrom(t, mark, "b", StateRunning)
	if pid := h.status("b").PID; pid == pidB || pid == 0 {
		t.Errorf("changed b kept pid %d", pid)
	}
	h.rec.wait(t, "gone", StateStopped)
	if _, err := h.s.Status(h.ctx, "gone"); err == nil {
		t.Error("removed service still has a status")
	}
	all, _ := h.s.Status(h.ctx, "")
	if len(all) != 3 {
		t.Errorf("Status lists %d services: %+v", len(all), all)
	}
	if st := h.status("new"); st.State != StateStopped || st.Enabled || h.rec.index("new", StateStarting) >= 0 {
		t.Errorf("disabled service started: %+v", st)
	}
	if err := h.s.Start(h.ctx, "new"); err != nil {
		t.Fatal(err)
	}
	h.rec.wait(t, "new", StateRunning)

	// a changed while b (which requires it) runs: a restarts, b stays.
	pidB = h.status("b").PID
	cfg = services("101")
	cfg["a"].Env["K"] = "w"
	delete(cfg, "gone")
	cfg["new"] = &config.Service{Exec: []string{"sleep", "100"}, Enabled: disabled()}
	mark = h.rec.len()
	h.set(cfg)
	h.rec.waitFrom(t, mark, "a", StateRunning)
	if h.status("a").PID == pidA {
		t.Error("changed a kept its pid")
	}
	if h.status("b").PID != pidB || stoppedAfter(h, mark, "b") {
		t.Error("b was stopped when a restarted")
	}
	if h.status("new").State != StateRunning {
		t.Error("a reload stopped a disabled service someone started")
	}
}

// A service someone stopped stays stopped across an unrelated reload.
func TestSetConfigKeepsManualStop(t *testing.T) {
	h := newHarness(t)
	h.set(services("100"))
	h.rec.wait(t, "gone", StateRunning)
	if err := h.s.Stop(h.ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	h.set(services("100"))
	if st := h.status("gone"); st.State != StateStopped {
		t.Errorf("reload restarted a stopped service: %s", st.State)
	}
}

func TestRestartKeepsDependents(t *testing.T) {
	h := newHarness(t)
	h.set(services("100"))
	h.rec.wait(t, "b", StateRunning)
	pidA, pidB := h.status("a").PID, h.status("b").PID
	mark := h.rec.len()
	if err := h.s.Restart(h.ctx, "a"); err != nil {
		t.Fatal(err)
	}
	h.rec.waitFrom(t, mark, "a", StateRunning)
	if pid := h.status("a").PID; pid == pidA || pid == 0 {
		t.Errorf("restart kept pid %d", pid)
	}
	if h.status("b").PID != pidB || stoppedAfter(h, mark, "b") {
		t.Error("restarting a stopped b")
	}
	if err := h.s.Restart(h.ctx, "nope"); err == nil {
		t.Error("Restart of an unknown service succeeded")
	}
}

func stoppedAfter(h *harness, mark int, name string) bool {
	for _, e := range h.rec.since(mark) {
		if e.Resource == "service:"+name && e.State == StateStopping {
			return true
		}
	}
	return false
}

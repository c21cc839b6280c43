package supervise

import (
	"strings"
	"testing"

	"unit/config"
)

// Dependents of a oneshot start once it exited 0, and stay waiting, with
// the reason in status, when it failed.
func TestOneshot(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"setup":  {Exec: sh("sleep 0.2; echo done"), Oneshot: true, Restart: config.RestartNever},
		"app":    {Exec: []string{"sleep", "100"}, Requires: []string{"setup"}},
		"bad":    {Exec: sh("exit 3"), Oneshot: true, Restart: config.RestartNever},
		"victim": {Exec: []string{"sleep", "100"}, Requires: []string{"bad"}},
	})
	done := h.rec.wait(t, "setup", "exited")
	if i := h.rec.index("app", "starting"); i >= 0 && i < done {
		t.Errorf("app started (#%d) before setup finished (#%d)", i, done)
	}
	h.rec.waitFrom(t, done, "app", "running")
	if h.rec.index("setup", "running") >= 0 {
		t.Error("a oneshot was shown running before it finished")
	}
	h.rec.wait(t, "bad", "exited")
	ready, err := h.s.WaitReady(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	<-ready
	if st := h.status("victim"); st.State != StateWaiting || !strings.Contains(st.Reason, "service:bad exited (exit 3)") {
		t.Errorf("victim: %s (%s)", st.State, st.Reason)
	}
	if st := h.status("bad"); st.LastExit != "exit 3" {
		t.Errorf("bad last exit %q", st.LastExit)
	}
}

// A service that is configured but not enabled runs only when started.
func TestNotEnabledRunsOnlyWhenStarted(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"manual": {Exec: []string{"sleep", "100"}, Enabled: disabled()},
		"other":  {Exec: []string{"sleep", "100"}},
	})
	h.rec.wait(t, "other", "running")
	if st := h.status("manual"); st.State != StateStopped || st.Enabled {
		t.Fatalf("disabled service: %+v", st)
	}
	if err := h.s.Start(h.ctx, "manual"); err != nil {
		t.Fatal(err)
	}
	h.rec.wait(t, "manual", "running")
}

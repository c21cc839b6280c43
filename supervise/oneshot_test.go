package supervise

import (
	"os"
	"strings"
	"testing"

	"github.com/unit-os/unit/config"
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

// A requirement that gave up (crash loop) blocks its dependents, whose
// status says which requirement failed; starting it again unblocks them.
func TestFailedRequirementBlocksDependents(t *testing.T) {
	flag := t.TempDir() + "/ok"
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"db": {Exec: sh("test -e " + flag + " || exit 7; echo >&3; exec sleep 100"), Ready: "fd:3",
			Restart: config.RestartOnFailure},
		"web": {Exec: []string{"sleep", "100"}, Requires: []string{"db"}},
	})
	h.rec.wait(t, "db", StateFailed)
	eventually(t, "web blocked", func() bool {
		st := h.status("web")
		return st.State == StateWaiting && st.Reason == "service:db failed"
	})
	if st := h.status("db"); !strings.Contains(st.Reason, "crash loop: exit 7") || st.LastExit != "exit 7" {
		t.Errorf("db: %q, last exit %q", st.Reason, st.LastExit)
	}
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := h.s.Start(h.ctx, "db"); err != nil {
		t.Fatal(err)
	}
	h.rec.wait(t, "web", StateRunning)
	if i := h.rec.index("web", StateStarting); i < h.rec.index("db", StateRunning) {
		t.Errorf("web started before db was ever ready")
	}
}

package supervise

import (
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/event"
)

func TestStopSignal(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"usr1": {Exec: sh(`trap 'echo got usr1; exit 0' USR1; echo >&3; while :; do sleep 0.05; done`),
			Ready: "fd:3", StopSignal: "SIGUSR1"},
	})
	h.rec.wait(t, "usr1", StateRunning)
	if err := h.s.Stop(h.ctx, "usr1"); err != nil {
		t.Fatal(err)
	}
	_, e := h.rec.waitFrom(t, 0, "usr1", StateStopping)
	if e.Message != "sent SIGUSR1" {
		t.Errorf("stopping: %q", e.Message)
	}
	if st := h.status("usr1"); st.State != StateStopped || st.Reason != "exit 0" {
		t.Errorf("after Stop: %s (%s)", st.State, st.Reason)
	}
	h.waitLog("usr1", is("got usr1"))
}

func TestStopTimeoutKills(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"stubborn": {Exec: sh(`trap "" TERM; echo >&3; while :; do sleep 0.05; done`), Ready: "fd:3",
			StopTimeout: config.Duration{Duration: 200 * time.Millisecond}},
	})
	h.rec.wait(t, "stubborn", StateRunning)
	if err := h.s.Stop(h.ctx, "stubborn"); err != nil {
		t.Fatal(err)
	}
	st := h.status("stubborn")
	if st.State != StateStopped || !strings.Contains(st.Reason, "SIGKILL") || !strings.Contains(st.Reason, "did not stop within 200ms") {
		t.Errorf("after Stop: %s (%s)", st.State, st.Reason)
	}
}

func gone(pid int) bool { return syscall.Kill(pid, 0) == syscall.ESRCH }

// A child left in the background (same process group) goes with the service.
func TestStopKillsBackgroundChild(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"forker": {Exec: sh("sleep 100 & echo $!; exec sleep 100")},
	})
	line := h.waitLog("forker", func(string) bool { return true })
	pid, err := strconv.Atoi(line)
	if err != nil || gone(pid) {
		t.Fatalf("background child %q not running: %v", line, err)
	}
	if err := h.s.Stop(h.ctx, "forker"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "background child to be gone", func() bool { return gone(pid) })
}

func stateOrder(evs []event.Event) []string {
	var out []string
	for _, e := range evs {
		if e.State == StateStopping || e.State == StateStopped {
			out = append(out, strings.TrimPrefix(e.Resource, "service:")+" "+e.State)
		}
	}
	return out
}

func TestStopStopsDependentsFirst(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"a": {Exec: []string{"sleep", "100"}},
		"b": {Exec: []string{"sleep", "100"}, Requires: []string{"a"}},
		"x": {Exec: []string{"sleep", "100"}}, // unrelated: must keep running
	})
	h.rec.wait(t, "b", StateRunning)
	h.rec.wait(t, "x", StateRunning)
	mark := h.rec.len()
	if err := h.s.Stop(h.ctx, "a"); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(stateOrder(h.rec.since(mark)), ", ")
	if want := "b stopping, b stopped, a stopping, a stopped"; got != want {
		t.Errorf("stop order: %s; want %s", got, want)
	}
	if st := h.status("x"); st.State != StateRunning {
		t.Errorf("x: %s", st.State)
	}
	// Start b pulls a back in, a first.
	mark = h.rec.len()
	if err := h.s.Start(h.ctx, "b"); err != nil {
		t.Fatal(err)
	}
	bRunning, _ := h.rec.waitFrom(t, mark, "b", StateRunning)
	if aRunning, _ := h.rec.waitFrom(t, mark, "a", StateRunning); aRunning > bRunning {
		t.Error("b running before a")
	}
}

func TestShutdownReverseOrder(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"a": {Exec: []string{"sleep", "100"}},
		"b": {Exec: []string{"sleep", "100"}, Requires: []string{"a"}},
		"c": {Exec: []string{"sleep", "100"}, Requires: []string{"b"}},
	})
	h.rec.wait(t, "c", StateRunning)
	mark := h.rec.len()
	if err := h.s.Shutdown(h.ctx); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(stateOrder(h.rec.since(mark)), ", ")
	if want := "c stopping, c stopped, b stopping, b stopped, a stopping, a stopped"; got != want {
		t.Errorf("shutdown order: %s; want %s", got, want)
	}
}

// Once Shutdown has begun, nothing starts again: a configuration manager
// converging at that moment (a service it wants running, a notify restart)
// gets an error instead of undoing the ordered stop.
func TestNoStartsAfterShutdown(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"a": {Exec: []string{"sleep", "100"}},
		"b": {Exec: []string{"sleep", "100"}, Requires: []string{"a"}},
	})
	h.rec.wait(t, "b", StateRunning)
	if err := h.s.Shutdown(h.ctx); err != nil {
		t.Fatal(err)
	}
	mark := h.rec.len()
	if err := h.s.Start(h.ctx, "b"); err == nil {
		t.Error("Start after Shutdown succeeded")
	}
	if err := h.s.Restart(h.ctx, "a"); err == nil {
		t.Error("Restart after Shutdown succeeded")
	}
	time.Sleep(100 * time.Millisecond)
	if got := stateOrder(h.rec.since(mark)); len(got) > 0 {
		t.Errorf("state changes after shutdown: %v", got)
	}
	for _, n := range []string{"a", "b"} {
		if st := h.status(n); st.State != StateStopped {
			t.Errorf("%s is %s after shutdown", n, st.State)
		}
	}
}

// Stop waits for the dependents it stops even when the service itself is
// already idle (a finished one-shot).
func TestStopWaitsForDependents(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"setup": {Exec: sh("exit 0"), Restart: config.RestartOnFailure, Ready: "fd:3"},
		"app": {Exec: sh(`trap "" TERM; echo >&3; while :; do sleep 0.05; done`), Requires: []string{"setup"}, Ready: "fd:3",
			StopTimeout: config.Duration{Duration: 300 * time.Millisecond}},
	})
	h.rec.wait(t, "app", StateRunning)
	if err := h.s.Stop(h.ctx, "setup"); err != nil {
		t.Fatal(err)
	}
	if st := h.status("app"); st.State != StateStopped {
		t.Errorf("Stop returned with app %s", st.State)
	}
}

package supervise

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/unit-os/unit/config"
)

func TestRequiresWaitsForReady(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"a": {Exec: sh("sleep 0.3; echo >&3; exec sleep 100"), Ready: "fd:3"},
		"b": {Exec: []string{"sleep", "100"}, Requires: []string{"a"}},
	})
	ready, err := h.s.WaitReady(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	aRunning := h.rec.wait(t, "a", "running")
	h.rec.wait(t, "b", "running")
	if i := h.rec.index("b", "starting"); i < aRunning {
		t.Errorf("b started (event #%d) before a was running (#%d)", i, aRunning)
	}
	if i := h.rec.index("b", "waiting"); i < 0 || i > aRunning {
		t.Errorf("b was not shown waiting for a (event #%d)", i)
	}
	select {
	case <-ready:
	case <-h.ctx.Done():
		t.Fatal("WaitReady never fired")
	}
}

func TestReadyTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"web": {Exec: []string{self}, Ready: "tcp:" + port,
			Env: map[string]string{"UNIT_TEST_HELPER": "listen", "UNIT_TEST_PORT": port}},
	})
	h.rec.wait(t, "web", "running")
	// Ready means bound: the helper prints after it listens, and the probe
	// can only have succeeded after that.
	h.waitLog("web", func(s string) bool { return s == "listening" })
	if c, err := net.Dial("tcp", "127.0.0.1:"+port); err != nil {
		t.Errorf("running but not listening: %v", err)
	} else {
		c.Close()
	}
}

func TestReadyExec(t *testing.T) {
	flag := filepath.Join(t.TempDir(), "up")
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"svc": {Exec: sh("sleep 0.3; touch " + flag + "; exec sleep 100"), Ready: "exec:test -e " + flag},
	})
	h.rec.wait(t, "svc", "running")
	if _, err := os.Stat(flag); err != nil {
		t.Errorf("running before the exec probe could succeed: %v", err)
	}
}

// TestReadyExecMayWrite: a probe that prints (chronyc tracking does) must
// not fail for it: its output goes to a writable /dev/null. dd exits 1
// when it cannot write.
func TestReadyExecMayWrite(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"svc": {Exec: []string{"sleep", "100"}, Ready: "exec:dd if=/dev/zero bs=1 count=1 status=none && echo printed && echo to-stderr >&2"},
	})
	h.rec.wait(t, "svc", "running")
}

func TestReadyNotify(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"n": {Exec: []string{self}, Ready: "notify", Env: map[string]string{"UNIT_TEST_HELPER": "notify"}},
	})
	_, e := h.rec.waitFrom(t, h.rec.wait(t, "n", "starting"), "n", "running")
	if e.Fields["pid"] != h.status("n").PID {
		t.Errorf("running event pid %v, status pid %d", e.Fields["pid"], h.status("n").PID)
	}
	h.waitLog("n", func(s string) bool { return s == "notified" })
}

func TestReadyTimeoutKills(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"slow": {Exec: []string{"sleep", "100"}, Ready: "fd:3", Restart: config.RestartNever,
			ReadyTimeout: config.Duration{Duration: 200e6}},
	})
	_, e := h.rec.waitFrom(t, 0, "slow", "exited")
	if !strings.Contains(e.Message, "not ready within 200ms") || !strings.Contains(e.Message, "SIGKILL") {
		t.Errorf("exit reason %q", e.Message)
	}
	if h.rec.index("slow", "running") >= 0 {
		t.Error("became running without signalling readiness")
	}
}

// A one-shot that finished successfully satisfies requires. (Its readiness
// never fires: with ready = "started" dependents would not wait for it.)
func TestRequiresFinishedOneShot(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"setup": {Exec: sh("sleep 0.1"), Restart: config.RestartOnFailure, Ready: "fd:3"},
		"app":   {Exec: []string{"sleep", "100"}, Requires: []string{"setup"}},
		"bad":   {Exec: sh("sleep 0.1; exit 1"), Restart: config.RestartNever, Ready: "fd:3"},
		"stuck": {Exec: []string{"sleep", "100"}, Requires: []string{"bad"}},
	})
	ready, err := h.s.WaitReady(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	h.rec.wait(t, "app", "running")
	h.rec.wait(t, "bad", "exited")
	select {
	case <-ready: // stuck waits for a dead requirement; boot is still done
	case <-h.ctx.Done():
		t.Fatal("WaitReady never fired")
	}
	if st := h.status("stuck"); st.State != StateWaiting || !strings.Contains(st.Reason, "exit 1") {
		t.Errorf("stuck: %s (%s)", st.State, st.Reason)
	}
}

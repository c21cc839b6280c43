package supervise

import (
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/unit-os/unit/config"
)

func TestPanicInHandlerIsRecovered(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{"a": {Exec: []string{"sleep", "100"}}})
	h.s.post(func() { panic("bug in a handler") })
	if err := h.s.call(h.ctx, func() error { panic("bug in a call") }); err == nil || !strings.Contains(err.Error(), "internal error") {
		t.Errorf("call of a panicking func: %v", err)
	}
	h.rec.wait(t, "a", StateRunning)
	if st := h.status("a"); st.State != StateRunning {
		t.Errorf("loop broken after panics: %+v", st)
	}
}

func TestUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("switching user needs root")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody:", err)
	}
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"who": {Exec: sh("id -u; id -G; echo home=$HOME"), User: "nobody", Restart: config.RestartNever},
	})
	h.rec.wait(t, "who", StateExited)
	h.waitLog("who", func(s string) bool { return strings.HasPrefix(s, "home=") }) // output may trail the exit
	lines, _ := h.s.Logs("who", 0)
	want := []string{nobody.Uid, nobody.Gid, "home=" + nobody.HomeDir}
	if got := texts(lines); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("output %q, want %q (no supplementary groups of root)", got, want)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// settles waits until fds and goroutines are back to their baseline: pipes
// close when the output pumps see EOF, probes end when cancelled.
func settles(t *testing.T, fds, goroutines int) {
	t.Helper()
	eventually(t, "fds and goroutines back to baseline", func() bool {
		return openFDs(t) <= fds && runtime.NumGoroutine() <= goroutines
	})
}

// Many starts and stops of every readiness kind, spawn failures, and probes
// cut short leave no fd and no goroutine behind.
func TestNoLeaks(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // finalizers would close leaked files
	h := newHarness(t)
	cfg := map[string]*config.Service{
		"fd":     {Exec: sh("echo hi; echo >&3; exec sleep 100"), Ready: "fd:3"},
		"notify": {Exec: []string{self}, Ready: "notify", Env: map[string]string{"UNIT_TEST_HELPER": "notify"}},
		"exec":   {Exec: []string{"sleep", "100"}, Ready: "exec:true"},
		"never":  {Exec: []string{"sleep", "100"}, Ready: "exec:false"}, // stopped while probing
		// Spawn failures after the readiness socket or pipe exists.
		"missing": {Exec: []string{"/nonexistent"}, Ready: "notify"},
		"nodir":   {Exec: []string{"sleep", "100"}, Dir: "/nonexistent", Ready: "fd:3"},
	}
	for _, c := range cfg {
		c.Enabled = disabled()
	}
	h.set(cfg)
	cycle := func() {
		mark := h.rec.len()
		for _, n := range []string{"fd", "notify", "exec", "never", "missing", "nodir"} {
			if err := h.s.Start(h.ctx, n); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range []string{"fd", "notify", "exec"} {
			h.rec.waitFrom(t, mark, n, StateRunning)
		}
		h.rec.waitFrom(t, mark, "never", StateStarting)
		h.rec.waitFrom(t, mark, "missing", StateFailed)
		h.rec.waitFrom(t, mark, "nodir", StateFailed)
		for _, n := range []string{"fd", "notify", "exec", "never"} {
			if err := h.s.Stop(h.ctx, n); err != nil {
				t.Fatal(err)
			}
		}
	}
	cycle() // warm up: the runtime opens its poller and signal fds once
	fds, goroutines := openFDs(t), runtime.NumGoroutine()
	for range 10 {
		cycle()
	}
	settles(t, fds, goroutines)

	// Removing a service in the middle of its probe ends the probe too.
	if err := h.s.Start(h.ctx, "never"); err != nil {
		t.Fatal(err)
	}
	h.rec.waitCount(t, "never", StateStarting, 12)
	delete(cfg, "never")
	h.set(cfg)
	settles(t, fds, goroutines)
}

// A grandchild that escaped the process group (setsid) and holds the output
// pipe must not pin the pump and the pipe forever.
func TestEscapedGrandchildReleasesPipe(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	if _, err := os.Stat("/usr/bin/setsid"); err != nil {
		t.Skip("no setsid:", err)
	}
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"warm": {Exec: sh("echo >&3; exec sleep 100"), Ready: "fd:3"}, // opens what the runtime opens once
	})
	h.rec.wait(t, "warm", StateRunning)
	if err := h.s.Stop(h.ctx, "warm"); err != nil {
		t.Fatal(err)
	}
	fds, goroutines := openFDs(t), runtime.NumGoroutine()
	// The main process waits until the grandchild has escaped: killing the
	// group any earlier would take it along.
	pidFile := filepath.Join(t.TempDir(), "pid")
	h.set(map[string]*config.Service{
		"warm": {Exec: sh("echo >&3; exec sleep 100"), Ready: "fd:3", Enabled: disabled()},
		"escape": {Exec: sh("setsid sh -c 'echo $$ >" + pidFile + ".tmp; mv " + pidFile + ".tmp " + pidFile + "; exec sleep 100' &" +
			"while [ ! -e " + pidFile + " ]; do sleep 0.01; done; exit 0"), Restart: config.RestartNever},
	})
	h.rec.wait(t, "escape", StateExited)
	b, _ := os.ReadFile(pidFile)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid file %q", b)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	settles(t, fds, goroutines)
	if gone(pid) {
		t.Error("the escaped grandchild is gone; the test proves nothing")
	}
}

// The output pump takes what a service wrote just before it exited, even
// when the grace period for escaped writers has long passed.
func TestDrainAfterDeadline(t *testing.T) {
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer wr.Close()
	if _, err := wr.WriteString("one\ntwo\nthree"); err != nil {
		t.Fatal(err)
	}
	_ = rd.SetReadDeadline(time.Now().Add(-time.Second))
	r := newRing(10)
	pump("x", rd, r, nil, newHarness(t).s.log)
	if got := strings.Join(texts(r.last(0)), "|"); got != "one|two|three" {
		t.Errorf("drained %q", got)
	}
	if _, err := rd.Stat(); err == nil {
		t.Error("pump left the pipe open")
	}
}

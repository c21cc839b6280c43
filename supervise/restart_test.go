package supervise

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/event"
)

func backoffDelays(evs []event.Event, name string) []int64 {
	var out []int64
	for _, e := range evs {
		if e.Resource == "service:"+name && e.State == StateBackoff {
			out = append(out, e.Fields["delay_ms"].(int64))
		}
	}
	return out
}

// Crash, crash, long (stable) run then crash, crash, crash, crash: the
// first restart and the one after the stable run are immediate, the rest
// back off, and the Limit+1th unstable exit in a row gives up.
func TestRestartBackoffAndCrashLoop(t *testing.T) {
	count := filepath.Join(t.TempDir(), "count")
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"crash": {Exec: sh(`n=$(cat ` + count + ` 2>/dev/null || echo 0); n=$((n+1)); echo $n >` + count + `
			echo run $n
			if [ $n -eq 3 ]; then sleep 1.5; fi
			exit 1`)},
	})
	failedAt, e := h.rec.waitFrom(t, 0, "crash", StateFailed)
	if !strings.Contains(e.Message, "crash loop") || !strings.Contains(e.Message, "exit 1") {
		t.Errorf("failed reason %q", e.Message)
	}
	want := []int64{0, 10, 0, 10, 20} // Initial 10ms doubling; reset by the stable run
	if got := backoffDelays(h.rec.since(0), "crash"); !reflect.DeepEqual(got, want) {
		t.Errorf("backoff delays %v, want %v", got, want)
	}
	if n := h.rec.count("crash", StateStarting); n != 6 {
		t.Errorf("%d starts, want 6", n)
	}
	st := h.status("crash")
	if st.State != StateFailed || st.Restarts != 5 || st.PID != 0 {
		t.Errorf("status %+v", st)
	}

	// Start clears failed and the crash count: the next restart is immediate.
	if err := h.s.Start(h.ctx, "crash"); err != nil {
		t.Fatal(err)
	}
	h.rec.waitFrom(t, failedAt, "crash", StateStarting)
	_, e = h.rec.waitFrom(t, failedAt, "crash", StateBackoff)
	if e.Fields["delay_ms"].(int64) != 0 {
		t.Errorf("first restart after Start delayed %vms", e.Fields["delay_ms"])
	}
	h.rec.waitFrom(t, failedAt+1, "crash", StateFailed)
}

func TestRestartPolicies(t *testing.T) {
	once := filepath.Join(t.TempDir(), "once")
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"never":   {Exec: sh("exit 1"), Restart: config.RestartNever},
		"ok":      {Exec: sh("exit 0"), Restart: config.RestartOnFailure},
		"flaky":   {Exec: sh("[ -e " + once + " ] && exec sleep 100; touch " + once + "; exit 1"), Restart: config.RestartOnFailure},
		"always0": {Exec: sh("exit 0"), Restart: config.RestartAlways},
	})
	_, e := h.rec.waitFrom(t, 0, "never", StateExited)
	if e.Message != "exit 1" {
		t.Errorf("never: %q", e.Message)
	}
	_, e = h.rec.waitFrom(t, 0, "ok", StateExited)
	if e.Message != "exit 0" {
		t.Errorf("ok: %q", e.Message)
	}
	second, _ := h.rec.waitCount(t, "flaky", StateStarting, 2)
	h.rec.waitFrom(t, second, "flaky", StateRunning)
	if st := h.status("flaky"); st.State != StateRunning || st.Restarts != 1 {
		t.Errorf("flaky: %+v", st)
	}
	h.rec.wait(t, "always0", StateFailed) // a clean exit is still an exit
	for _, name := range []string{"never", "ok"} {
		if st := h.status(name); st.State != StateExited || h.rec.count(name, StateStarting) != 1 {
			t.Errorf("%s restarted: %+v", name, st)
		}
	}

	// Start runs an exited service again; so does Restart.
	mark := h.rec.len()
	if err := h.s.Start(h.ctx, "ok"); err != nil {
		t.Fatal(err)
	}
	i, _ := h.rec.waitFrom(t, mark, "ok", StateExited)
	if err := h.s.Restart(h.ctx, "ok"); err != nil {
		t.Fatal(err)
	}
	h.rec.waitFrom(t, i+1, "ok", StateExited)
	if n := h.rec.count("ok", StateStarting); n != 3 {
		t.Errorf("ok started %d times, want 3", n)
	}
}

func TestSpawnFailureEndsFailed(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"missing": {Exec: []string{"/nonexistent/daemon"}},
		"nodir":   {Exec: []string{"sleep", "100"}, Dir: "/nonexistent"},
		"dep":     {Exec: []string{"sleep", "100"}, Requires: []string{"missing"}},
	})
	_, e := h.rec.waitFrom(t, 0, "missing", StateFailed)
	if !strings.Contains(e.Message, "/nonexistent/daemon") {
		t.Errorf("reason %q", e.Message)
	}
	h.rec.wait(t, "nodir", StateFailed)
	if n := h.rec.count("missing", StateBackoff); n != fastBackoff.Limit {
		t.Errorf("%d retries, want %d", n, fastBackoff.Limit)
	}
	if st := h.status("dep"); st.State != StateWaiting || !strings.Contains(st.Reason, "failed") {
		t.Errorf("dep: %s (%s)", st.State, st.Reason)
	}
}

// An immediate restart reports its backoff state once the replacement has
// exec'd: no log write or event fan-out comes before the execve. The
// events still say backoff, then starting.
func TestImmediateRestartReportsBackoffAfterExec(t *testing.T) {
	const arg = "1000.25" // names the service's processes in /proc
	var mu sync.Mutex
	var order []string
	replaced := false
	restarted := make(chan struct{})
	emit := func(e event.Event) {
		if e.Resource != "service:s" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		order = append(order, e.State)
		if e.State == StateBackoff {
			replaced = len(processesWithArg(arg)) > 0
		}
		if e.State == StateRunning && slices.Contains(order, StateBackoff) {
			close(restarted)
		}
	}
	h := newHarness(t, WithEvents(emit))
	h.set(map[string]*config.Service{"s": {Exec: []string{"sleep", arg}}})
	ready, err := h.s.WaitReady(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	<-ready
	killPID(h.status("s").PID)
	<-restarted
	mu.Lock()
	defer mu.Unlock()
	if !replaced {
		t.Error("backoff reported before the replacement exec'd")
	}
	if want := []string{StateStarting, StateRunning, StateBackoff, StateStarting, StateRunning}; !reflect.DeepEqual(order, want) {
		t.Errorf("states %v, want %v", order, want)
	}
}

// processesWithArg lists the live processes with arg in their command line.
func processesWithArg(arg string) []string {
	var out []string
	paths, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err == nil && slices.Contains(strings.Split(string(b), "\x00"), arg) {
			out = append(out, p)
		}
	}
	return out
}

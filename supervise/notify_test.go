package supervise

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/unit-os/unit/execfile"

	"github.com/unit-os/unit/config"
)

func TestParseNotify(t *testing.T) {
	m := parseNotify([]byte("READY=1\nSTATUS=loading 50%\nMAINPID=42\nWATCHDOG=1\nSTOPPING=1\nbogus"))
	if !m.ready || !m.watchdog || !m.stopping || m.mainPID != 42 || m.status == nil || *m.status != "loading 50%" {
		t.Errorf("parsed %+v", m)
	}
	if m := parseNotify([]byte("WATCHDOG=trigger\nMAINPID=x")); !m.trigger || m.watchdog || m.mainPID != 0 {
		t.Errorf("parsed %+v", m)
	}
}

// A service that stops pinging its watchdog is killed and restarted; one
// that keeps pinging is not.
func TestNotifyWatchdog(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"wd": {Exec: []string{self}, Ready: "notify", Watchdog: config.Duration{Duration: time.Second},
			Env: map[string]string{"UNIT_TEST_HELPER": "watchdog", "UNIT_TEST_PINGS": "6"}},
	})
	h.waitLog("wd", func(s string) bool { return s == "WATCHDOG_USEC=1000000" })
	// Six pings every 250ms outlast the 1s watchdog: only the hang kills it.
	h.waitLog("wd", func(s string) bool { return s == "hanging" })
	if i := h.rec.index("wd", "watchdog"); i >= 0 {
		t.Fatalf("watchdog fired while the service was pinging:\n%s", h.rec.dump())
	}
	_, e := h.rec.waitFrom(t, 0, "wd", "watchdog")
	if !strings.Contains(e.Message, "no WATCHDOG=1 within 1s") {
		t.Errorf("watchdog event %q", e.Message)
	}
	h.rec.waitCount(t, "wd", "running", 2)
	if st := h.status("wd"); !strings.Contains(st.LastExit, "watchdog") || !strings.Contains(st.LastExit, "SIGKILL") || st.Restarts != 1 {
		t.Errorf("status after watchdog restart: last exit %q, restarts %d", st.LastExit, st.Restarts)
	}
	if st := h.status("wd"); st.Notify != "serving" {
		t.Errorf("STATUS= not shown: %q", st.Notify)
	}
}

// MAINPID= hands the service over to a forked child: the parent's exit does
// not end the service; the child's does.
func TestNotifyMainPID(t *testing.T) { testMainPID(t) }

// The same in cgroup mode, where the new main pid must be in the cgroup.
func TestNotifyMainPIDCgroup(t *testing.T) { testMainPID(t, WithCgroups(testCgroup(t))) }

func testMainPID(t *testing.T, opts ...Option) {
	h := newHarness(t, opts...)
	h.set(map[string]*config.Service{
		"fork": {Exec: []string{self}, Ready: "notify", Env: map[string]string{"UNIT_TEST_HELPER": "mainpid"}},
	})
	h.rec.wait(t, "fork", "running")
	line := h.waitLog("fork", func(s string) bool { return strings.HasPrefix(s, "child ") })
	h.waitLog("fork", func(s string) bool { return s == "parent exits" })
	var child int
	if _, err := fmtSscan(line, &child); err != nil {
		t.Fatal(err)
	}
	eventually(t, "status pid to be the child", func() bool { return h.status("fork").PID == child })
	time.Sleep(300 * time.Millisecond) // the parent has exited and been reaped by now
	if st := h.status("fork"); st.State != StateRunning || st.Notify != "forked" {
		t.Fatalf("after the parent exited: %+v", st)
	}
	if err := syscall.Kill(child, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_, e := h.rec.waitFrom(t, 0, "fork", "backoff")
	if !strings.Contains(e.Message, "signal SIGTERM") {
		t.Errorf("exit of the main pid: %q", e.Message)
	}
	h.rec.waitCount(t, "fork", "running", 2)
}

// An unmodified sd_notify client (systemd's own systemd-notify) works.
func TestNotifySystemdNotify(t *testing.T) {
	if _, err := lookPath("systemd-notify", []string{"PATH=" + execfile.DefaultPATH}); err != nil {
		t.Skip("systemd-notify not installed")
	}
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"sd": {Exec: sh("systemd-notify --status=warming; sleep 0.2; systemd-notify --ready --status=serving; exec sleep 100"),
			Ready: "notify"},
	})
	_, e := h.rec.waitFrom(t, 0, "sd", "running")
	if ms, _ := e.Fields["ready_ms"].(int64); ms < 150 {
		t.Errorf("ready after %d ms, before systemd-notify --ready", ms)
	}
	if st := h.status("sd"); st.Notify != "serving" || st.State != StateRunning {
		t.Errorf("status: %+v", st)
	}
	if h.rec.index("sd", "running") < 0 {
		t.Error("no running event")
	}
}

package supervise

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unit-os/unit/execfile"
	"github.com/unit-os/unit/probe"

	"github.com/unit-os/unit/config"
)

// A failing health check shows in status and events and, after
// health_retries failures in a row, restarts the service.
func TestHealthRestarts(t *testing.T) {
	flag := filepath.Join(t.TempDir(), "healthy")
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"h": {Exec: []string{"sleep", "100"}, Health: "exec:test -e " + flag,
			HealthInterval: config.Duration{Duration: 50 * time.Millisecond},
			HealthTimeout:  config.Duration{Duration: 5 * time.Second}, HealthRetries: 2},
	})
	h.rec.wait(t, "h", "running")
	eventually(t, "health ok", func() bool { return h.status("h").Health == "ok" })
	time.Sleep(200 * time.Millisecond) // several passing checks: nothing happens
	if i := h.rec.index("h", "unhealthy"); i >= 0 {
		t.Fatalf("unhealthy while passing:\n%s", h.rec.dump())
	}
	if err := os.Remove(flag); err != nil {
		t.Fatal(err)
	}
	_, e := h.rec.waitFrom(t, 0, "h", "unhealthy")
	if !strings.Contains(e.Message, "failing 1/2: expected exit 0, got exit 1") {
		t.Errorf("first failure: %q", e.Message)
	}
	h.rec.waitFrom(t, 0, "h", "stopping")
	os.WriteFile(flag, nil, 0o644) // the restarted service is healthy again
	h.rec.waitCount(t, "h", "running", 2)
	st := h.status("h")
	if !strings.Contains(st.LastExit, "health check failed 2 times") || st.Restarts != 1 {
		t.Errorf("after the health restart: last exit %q, restarts %d", st.LastExit, st.Restarts)
	}
	if h.rec.count("h", "unhealthy") != 2 {
		t.Errorf("want exactly 2 unhealthy events:\n%s", h.rec.dump())
	}
}

// Without health, nothing is checked: no timer runs for a service.
func TestHealthOffByDefault(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{"quiet": {Exec: []string{"sleep", "100"}}})
	h.rec.wait(t, "quiet", "running")
	h.s.call(h.ctx, func() error {
		if v := h.s.services["quiet"]; v.health.timer.t != nil || v.watchdog.t != nil {
			t.Error("a timer is armed for a service that asked for none")
		}
		return nil
	})
}

func TestHealthChecks(t *testing.T) {
	var fail atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" || fail.Load() {
			http.Error(w, "sick", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	s := New(testReaper)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	env := []string{"PATH=" + execfile.DefaultPATH}
	if err := s.checkHealth(ctx, "http:"+port+"/healthz", env); err != nil {
		t.Errorf("http healthy: %v", err)
	}
	if err := s.checkHealth(ctx, "http:"+port+"/other", env); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("http wrong path: %v", err)
	}
	fail.Store(true)
	if err := s.checkHealth(ctx, "http:"+port+"/healthz", env); err == nil {
		t.Error("http failing: no error")
	}
	if err := s.checkHealth(ctx, "tcp:"+port, env); err != nil {
		t.Errorf("tcp open port: %v", err)
	}
	srv.Close()
	if err := s.checkHealth(ctx, "tcp:"+port, env); err == nil {
		t.Error("tcp closed port: no error")
	}
}

// health and ready = "check:NAME" ask a [check.NAME] (package probe): the
// service is ready only once the answer is right, and when its answer goes
// wrong it is restarted with the mismatch as the reason.
func TestCheckHealthAndReady(t *testing.T) {
	var body atomic.Value
	body.Store("warming up")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(body.Load().(string)))
	}))
	defer srv.Close()
	checks := map[string]probe.Spec{
		"api":  {HTTP: srv.URL + "/", Body: regexp.MustCompile(`^ok`), Timeout: time.Second},
		"tool": {Exec: []string{"sh", "-c", "echo PONG; exit 0"}, Output: regexp.MustCompile(`PONG`)},
	}
	h := newHarness(t, WithChecks(func(name string) (probe.Spec, bool) { s, ok := checks[name]; return s, ok }))
	h.set(map[string]*config.Service{
		"h": {Exec: []string{"sleep", "100"}, Ready: "check:api", Health: "check:api",
			HealthInterval: config.Duration{Duration: 50 * time.Millisecond},
			HealthTimeout:  config.Duration{Duration: 5 * time.Second}, HealthRetries: 2},
		"t": {Exec: []string{"sleep", "100"}, Ready: "check:tool"},
	})
	h.rec.wait(t, "t", "running")
	time.Sleep(100 * time.Millisecond) // several wrong answers: not ready
	if h.rec.index("h", "running") >= 0 {
		t.Fatalf("ready on a wrong answer:\n%s", h.rec.dump())
	}
	body.Store("ok: serving")
	h.rec.wait(t, "h", "running")
	eventually(t, "health ok", func() bool { return h.status("h").Health == "ok" })
	body.Store("502 Bad Gateway")
	_, e := h.rec.waitFrom(t, 0, "h", "unhealthy")
	if !strings.Contains(e.Message, `expected body ~ "^ok", got "502 Bad Gateway"`) {
		t.Errorf("unhealthy: %q", e.Message)
	}
	h.rec.waitFrom(t, 0, "h", "stopping")
	body.Store("ok again")
	h.rec.waitCount(t, "h", "running", 2)
	if st := h.status("h"); !strings.Contains(st.LastExit, `health check failed 2 times (expected body ~ "^ok", got "502 Bad Gateway")`) {
		t.Errorf("last exit %q", st.LastExit)
	}
}

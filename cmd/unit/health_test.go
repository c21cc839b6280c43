package main

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// unit health is one Nagios plugin line led by the worst state: the count
// in each state, perfdata, then what is not OK, worst first; the exit code
// is the worst state.
func TestHostHealth(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close() // nothing listens: the tcp check fails
	cfgDir := t.TempDir()
	writeConfig(t, cfgDir, "a.toml", fmt.Sprintf(`
[service.web]
exec = ["sleep", "1000"]

[service.once]
exec    = ["true"]
oneshot = true

[check.port]
tcp    = "127.0.0.1:%s"
within = "1s"
`, port))
	d := startDaemon(t, cfgDir)
	d.waitState(t, "web", "running")
	d.waitState(t, "once", "exited")
	out, err := d.unit("health")
	if err != nil || !strings.HasPrefix(out, "OK: 2 ok, 0 warning, 0 critical, 0 unknown | ok=2 warning=0 critical=0 unknown=0 restarts=0c\n") {
		t.Fatalf("all up: %v\n%s", err, out)
	}
	out, err = d.unit("health", "--checks")
	if exitStatus(err) != 2 || !strings.HasPrefix(out, "CRITICAL: 2 ok, 0 warning, 1 critical, 0 unknown |") || !strings.Contains(out, "\nCRITICAL check:port: ") {
		t.Errorf("a failing check: exit %d\n%s", exitStatus(err), out)
	}

	writeConfig(t, cfgDir, "a.toml", `
[service.web]
exec = ["sleep", "1000"]

[service.bad]
exec    = ["sh", "-c", "exit 7"]
restart = "never"
`)
	waitFor(t, 10*time.Second, "the reload", func() bool {
		out, err = d.unit("health")
		return exitStatus(err) == 2
	})
	if !strings.HasPrefix(out, "CRITICAL: 1 ok, 0 warning, 1 critical, 0 unknown |") || !strings.Contains(out, "\nCRITICAL bad: exited (exit 7)") {
		t.Errorf("a service that exited badly:\n%s", out)
	}
	// No daemon: one line, the state first, then why.
	if out, err := d.unit("health", "--socket", "/nonexistent/unit.sock"); exitStatus(err) != 3 ||
		!strings.HasPrefix(out, "UNKNOWN: connect to unit at /nonexistent/unit.sock: ") || strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, " | ok=0 warning=0 critical=0 unknown=1\n") {
		t.Errorf("no daemon: exit %d\n%s", exitStatus(err), out)
	}
}

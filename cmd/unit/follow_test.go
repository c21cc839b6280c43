package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// follower is a long-running client command (logs -f, events) whose output
// lines arrive on a channel.
func (d *hostDaemon) follower(t *testing.T, args ...string) <-chan string {
	t.Helper()
	cmd := exec.Command(unitBin, args...)
	cmd.Env = append(os.Environ(), "UNIT_SOCKET="+d.socket)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		io.Copy(io.Discard, out)
		close(lines)
	}()
	return lines
}

func expectLine(t *testing.T, what string, lines <-chan string, ok func(string) bool) string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case l, open := <-lines:
			if !open {
				t.Fatalf("%s: stream ended", what)
			}
			if ok(l) {
				return l
			}
		case <-deadline:
			t.Fatalf("%s: no matching line", what)
		}
	}
}

// `unit logs -f` follows new output and `unit events --json` streams state
// changes, both from before the service started.
func TestLogsFollowAndEvents(t *testing.T) {
	cfgDir := t.TempDir()
	writeConfig(t, cfgDir, "a.toml", `
[service.ticker]
exec    = ["/bin/sh", "-c", "i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.1; done"]
enabled = false
`)
	d := startDaemon(t, cfgDir)
	logs := d.follower(t, "logs", "-f", "ticker")
	events := d.follower(t, "events", "--json")
	time.Sleep(200 * time.Millisecond) // both subscribed before anything happens
	if out, err := d.unit("start", "ticker"); err != nil {
		t.Fatalf("start: %v\n%s", err, out)
	}
	l := expectLine(t, "logs -f", logs, func(s string) bool { return strings.HasSuffix(s, " tick 3") })
	if ts, _, _ := strings.Cut(l, " "); !strings.Contains(ts, "T") {
		t.Errorf("log line without timestamp: %q", l)
	}
	expectLine(t, "events", events, func(s string) bool {
		var e struct{ Resource, State string }
		return json.Unmarshal([]byte(s), &e) == nil && e.Resource == "service:ticker" && e.State == "running"
	})
	out, err := d.unit("status", "ticker")
	if err != nil || !strings.Contains(out, "state:") || !strings.Contains(out, "running") || !strings.Contains(out, "readiness:") {
		t.Errorf("status ticker: %v\n%s", err, out)
	}
	if _, err := d.unit("stop", "ticker"); err != nil {
		t.Fatal(err)
	}
	expectLine(t, "events", events, func(s string) bool {
		return strings.Contains(s, `"service:ticker"`) && strings.Contains(s, `"stopped"`)
	})
}

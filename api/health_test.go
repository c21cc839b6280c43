package api

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestHealth: each enabled service judged, failed resources and a config
// error WARNING (the error's first file:line named), the Nagios output
// led by the worst state (as a plugin's first word), the items worst
// first, with the exit state.
func TestHealth(t *testing.T) {
	rep := StatusReply{
		Services: []ServiceStatus{
			{Name: "web", State: ServiceRunning, Enabled: true, Health: "ok"},
			{Name: "db", State: "failed", Enabled: true, LastExit: "exit 1"},
			{Name: "job", State: ServiceExited, Enabled: true, LastExit: "exit 0"},
			{Name: "cache", State: ServiceRunning, Enabled: true, Health: "failing 3/3: connection refused"},
			{Name: "off", State: "stopped"},
		},
		Failed:      []FailedResource{{Resource: "file:/etc/motd", Error: "permission denied"}},
		ConfigError: "config /etc/unit:\n/etc/unit/fleet/group.web.toml:3: unknown key \"x\"\n/etc/unit/a.toml:1: other\n",
	}
	var b bytes.Buffer
	code := PrintHealth(&b, rep.Health(), "")
	want := `CRITICAL: 2 ok, 3 warning, 1 critical, 0 unknown | ok=2 warning=3 critical=1 unknown=0
CRITICAL db: failed (exit 1)
WARNING cache: health failing 3/3: connection refused
WARNING config: the last good config runs; /etc/unit/fleet/group.web.toml:3: unknown key "x"
WARNING file:/etc/motd: permission denied
`
	if code != Critical || b.String() != want {
		t.Errorf("exit %d, output:\n%s\nwant:\n%s", code, b.String(), want)
	}
	b.Reset()
	if code := PrintHealth(&b, nil, " restarts=0c"); code != OK || b.String() != "OK: 0 ok, 0 warning, 0 critical, 0 unknown | ok=0 warning=0 critical=0 unknown=0 restarts=0c\n" {
		t.Errorf("nothing to judge: exit %d, %q", code, b.String())
	}
	// Unit does not answer: the state first, then why, on one line.
	b.Reset()
	if code := PrintUnknown(&b, errors.New("connect to unit at /x.sock: refused\n(is it running?) a|b")); code != Unknown ||
		b.String() != "UNKNOWN: connect to unit at /x.sock: refused; (is it running?) a/b | ok=0 warning=0 critical=0 unknown=1\n" {
		t.Errorf("unit down: exit %d, %q", code, b.String())
	}
	if Worst(nil) != OK || !strings.HasPrefix(firstError("garbage:"), "the config on disk") {
		t.Error("edge cases")
	}
}

package api

import (
	"bytes"
	"strings"
	"testing"

	"github.com/unit-os/unit/supervise"
)

// TestHealth: each enabled service judged, failed resources and a config
// error WARNING (the error's first file:line named), the Nagios output
// worst first with the exit state.
func TestHealth(t *testing.T) {
	rep := StatusReply{
		Services: []supervise.Status{
			{Name: "web", State: supervise.StateRunning, Enabled: true, Health: "ok"},
			{Name: "db", State: "failed", Enabled: true, LastExit: "exit 1"},
			{Name: "job", State: supervise.StateExited, Enabled: true, LastExit: "exit 0"},
			{Name: "cache", State: supervise.StateRunning, Enabled: true, Health: "failing 3/3: connection refused"},
			{Name: "off", State: "stopped"},
		},
		Failed:      []FailedResource{{Resource: "file:/etc/motd", Error: "permission denied"}},
		ConfigError: "config /etc/unit:\n/etc/unit/fleet/group.web.toml:3: unknown key \"x\"\n/etc/unit/a.toml:1: other\n",
	}
	var b bytes.Buffer
	code := PrintHealth(&b, rep.Health(), "")
	want := `OK: 2 WARNING: 3 CRITICAL: 1 UNKNOWN: 0 | ok=2 warning=3 critical=1 unknown=0
CRITICAL db: failed (exit 1)
WARNING cache: health failing 3/3: connection refused
WARNING config: the last good config runs; /etc/unit/fleet/group.web.toml:3: unknown key "x"
WARNING file:/etc/motd: permission denied
`
	if code != Critical || b.String() != want {
		t.Errorf("exit %d, output:\n%s\nwant:\n%s", code, b.String(), want)
	}
	if Worst(nil) != OK || !strings.HasPrefix(firstError("garbage:"), "the config on disk") {
		t.Error("edge cases")
	}
}

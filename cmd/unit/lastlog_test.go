package main

import (
	"strings"
	"testing"
	"time"
)

// unit status shows, under a service that exited, the last lines it
// wrote: why it exited, without a second command. A running service shows
// none, and the rows stay one table.
func TestStatusShowsWhyAServiceExited(t *testing.T) {
	cfgDir := t.TempDir()
	writeConfig(t, cfgDir, "a.toml", `
[service.bad]
exec = ["/bin/sh", "-c", "echo starting; echo cannot open /etc/foo.conf >&2; exit 1"]
restart = "never"
[service.good]
exec = ["/bin/sh", "-c", "echo fine; exec sleep 1000"]
`)
	d := startDaemon(t, cfgDir)
	var out string
	waitFor(t, 20*time.Second, "bad exited with its line in status", func() bool {
		o, _ := d.unit("status") // exits 1: a service failed
		out = o
		return strings.Contains(o, "cannot open /etc/foo.conf") && strings.Contains(o, "good ")
	})
	rows := strings.Split(out, "\n")
	at := -1
	for i, r := range rows {
		if strings.HasPrefix(r, "bad ") {
			at = i
		}
	}
	if at < 0 || at+2 >= len(rows) || rows[at+1] != "    starting" || rows[at+2] != "    cannot open /etc/foo.conf" {
		t.Fatalf("the last lines are not indented under bad's row:\n%s", out)
	}
	if strings.Contains(out, "fine") {
		t.Errorf("a running service's log is shown:\n%s", out)
	}
	col := map[string]int{}
	for _, r := range rows {
		if f := strings.Fields(r); len(f) > 1 && !strings.HasPrefix(r, " ") {
			col[f[0]] = strings.Index(r, " "+f[1]) + 1
		}
	}
	if col["SERVICE"] == 0 || col["bad"] != col["SERVICE"] || col["good"] != col["SERVICE"] {
		t.Errorf("the STATE column is not aligned across rows (%v):\n%s", col, out)
	}
	st := d.statusJSON(t)
	last, _ := st["last_log"].(map[string]any)
	if l, _ := last["bad"].([]any); len(l) != 2 || l[1] != "cannot open /etc/foo.conf" {
		t.Errorf("status --json last_log = %v; want bad's two lines", st["last_log"])
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A reload hands the supervisor its services only after the pass that
// converges the new config's files ended: a service added together with
// the file it reads never starts before that file exists. Each reload adds
// a one-shot that fails when its file is missing, and files enough beside
// it that their pass takes a while (a staged write), so a supervisor
// started in parallel with the pass loses the race.
func TestHostReloadConvergesFilesBeforeServices(t *testing.T) {
	const reloads, filesPerReload = 20, 100
	cfgDir, data := t.TempDir(), t.TempDir()
	writeConfig(t, cfgDir, "00-probe.toml", `
[service.probe]
exec    = ["/bin/true"]
oneshot = true
enabled = false
`)
	d := startDaemon(t, cfgDir)
	events := d.follower(t, "events", "--json")
	d.subscribed(t, events)

	for i := range reloads {
		dir := filepath.Join(data, fmt.Sprint(i))
		want := filepath.Join(dir, "conf")
		var b strings.Builder
		fmt.Fprintf(&b, "[service.s%d]\nexec = [\"/bin/sh\", \"-c\", \"test -f %s || { echo MISSING %s; exit 1; }\"]\noneshot = true\n",
			i, want, want)
		fmt.Fprintf(&b, "[file.%q]\ncontent = \"x\\n\"\n", want)
		for j := range filesPerReload {
			fmt.Fprintf(&b, "[file.%q]\ncontent = \"%d\\n\"\n", filepath.Join(dir, fmt.Sprintf("other%03d", j)), j)
		}
		// Written beside and renamed in: the reload sees the whole file.
		name := fmt.Sprintf("%02d-s.toml", i+1)
		writeConfig(t, cfgDir, "."+name, b.String())
		if err := os.Rename(filepath.Join(cfgDir, "."+name), filepath.Join(cfgDir, name)); err != nil {
			t.Fatal(err)
		}
		id := fmt.Sprintf("service:s%d", i)
		line := expectLine(t, id+" ended", events, func(s string) bool {
			var e struct{ Resource, State string }
			return json.Unmarshal([]byte(s), &e) == nil && e.Resource == id &&
				(e.State == "exited" || e.State == "failed" || e.State == "backoff")
		})
		var e struct{ Fields map[string]any }
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.Fields["exit"] != "exit 0" {
			logs, _ := d.unit("logs", fmt.Sprintf("s%d", i))
			t.Fatalf("reload %d: the service started before its file existed: %s\n%s", i, line, logs)
		}
	}
}

// subscribed returns once events streams: it starts the disabled one-shot
// probe until the stream shows it (the subscription may trail the start).
func (d *hostDaemon) subscribed(t *testing.T, events <-chan string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if out, err := d.unit("start", "probe"); err != nil {
			t.Fatalf("start probe: %v\n%s", err, out)
		}
		timeout := time.After(time.Second)
		for {
			select {
			case l, open := <-events:
				if !open {
					t.Fatal("events: stream ended")
				}
				if strings.Contains(l, `"service:probe"`) {
					return
				}
				continue
			case <-timeout:
			}
			break
		}
	}
	t.Fatal("events: the stream never showed the probe")
}

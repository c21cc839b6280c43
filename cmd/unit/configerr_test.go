package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An invalid config under `unit run`: `unit status` (table and --json) and
// `unit events` (text and --json) carry its file:line error while it is on
// disk, the last good config keeps running (drift repaired, the service
// untouched, later edits not taken), and a valid config clears it.
func TestHostConfigErrorInStatusAndEvents(t *testing.T) {
	cfgDir, data := t.TempDir(), t.TempDir()
	page := filepath.Join(data, "page")
	good := func(content string) string {
		return "[service.web]\nexec = [\"sleep\", \"1000\"]\n\n[file.\"" + page + "\"]\ncontent = \"" + content + "\\n\"\n"
	}
	writeConfig(t, cfgDir, "a.toml", good("v1"))
	d := startDaemon(t, cfgDir)
	pid := d.waitState(t, "web", "running")["pid"]
	waitFor(t, 10*time.Second, "page v1", func() bool { b, _ := os.ReadFile(page); return string(b) == "v1\n" })
	if got := d.statusJSON(t)["config_error"]; got != nil {
		t.Fatalf("config_error with a valid config: %v", got)
	}
	jsonEvents := d.follower(t, "events", "--json")
	textEvents := d.follower(t, "events")
	time.Sleep(200 * time.Millisecond) // both subscribed before the edit

	bad := filepath.Join(cfgDir, "b.toml")
	writeConfig(t, cfgDir, "b.toml", "[file.\"/x\"]\ncontnet = \"y\"\n")
	wantErr := bad + ":2: unknown key"
	expectLine(t, "events --json", jsonEvents, func(s string) bool {
		var e struct{ Resource, State, Message string }
		return json.Unmarshal([]byte(s), &e) == nil && e.Resource == "config" && e.State == "error" &&
			strings.Contains(e.Message, wantErr)
	})
	expectLine(t, "events", textEvents, func(s string) bool { return strings.Contains(s, " config error ") })
	expectLine(t, "events (the file:line)", textEvents, func(s string) bool { return strings.Contains(s, wantErr) })
	st := d.statusJSON(t)
	if e, _ := st["config_error"].(string); !strings.Contains(e, wantErr) {
		t.Errorf("status --json config_error = %q, want %q in it", e, wantErr)
	}
	// The config on disk is in error: status says so, and exits 3.
	out, err := d.unit("status")
	if exitStatus(err) != 3 || !strings.Contains(out, "config error (the last good config keeps running):") ||
		!strings.Contains(out, wantErr) || !strings.Contains(out, "web") {
		t.Errorf("status: %v\n%s", err, out)
	}
	out, err = d.unit("status", "web")
	if err != nil || !strings.Contains(out, wantErr) || !strings.Contains(out, "service:") {
		t.Errorf("status web: %v\n%s", err, out)
	}

	// The last good config keeps running: drift is repaired, an edit of a
	// good file is not taken while the set is invalid.
	os.WriteFile(page, []byte("drift\n"), 0o644)
	waitFor(t, 10*time.Second, "drift repaired under the last good config", func() bool {
		b, _ := os.ReadFile(page)
		return string(b) == "v1\n"
	})
	writeConfig(t, cfgDir, "a.toml", good("v2"))
	expectLine(t, "events --json (still invalid)", jsonEvents, func(s string) bool {
		return strings.Contains(s, `"config"`) && strings.Contains(s, `"error"`)
	})
	if b, _ := os.ReadFile(page); string(b) != "v1\n" {
		t.Errorf("page %q: an edit was taken while the config was invalid", b)
	}
	if e, _ := d.statusJSON(t)["config_error"].(string); !strings.Contains(e, wantErr) {
		t.Errorf("config_error gone while b.toml is still bad: %q", e)
	}

	// Fixed: the error clears, the pending edit lands, web kept its pid.
	os.Remove(bad)
	expectLine(t, "events --json (valid)", jsonEvents, func(s string) bool {
		return strings.Contains(s, `"config"`) && strings.Contains(s, `"valid"`)
	})
	waitFor(t, 10*time.Second, "status without config_error", func() bool {
		_, has := d.statusJSON(t)["config_error"]
		return !has
	})
	if out, _ := d.unit("status"); strings.Contains(out, "config error") {
		t.Errorf("status still shows the error:\n%s", out)
	}
	waitFor(t, 10*time.Second, "page v2", func() bool { b, _ := os.ReadFile(page); return string(b) == "v2\n" })
	if got := d.status(t, "web"); got["state"] != "running" || got["pid"] != pid {
		t.Errorf("web %v pid %v, want running pid %v (untouched throughout)", got["state"], got["pid"], pid)
	}
}

// statusJSON is `unit status --json` decoded.
func (d *hostDaemon) statusJSON(t *testing.T) map[string]any {
	t.Helper()
	out, err := d.unit("status", "--json")
	if err != nil && exitStatus(err) != 3 {
		t.Fatalf("status: %v\n%s", err, out)
	}
	var st map[string]any
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status json: %v\n%s", err, out)
	}
	return st
}

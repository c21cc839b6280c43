package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The configuration manager through `unit run`: templates with facts,
// notify, reload of the config dir (valid and invalid), reports, dry run.
func TestHostCMReloadReportsDryRun(t *testing.T) {
	cfgDir, data := t.TempDir(), t.TempDir()
	page, audited := filepath.Join(data, "page"), filepath.Join(data, "audited")
	writeCfg := func(version string) {
		src := `
[service.web]
exec = ["sleep", "1000"]

[file."` + page + `"]
template = "v={{.vars.v}} cpus={{.facts.cpus}}\n"
vars = { v = "` + version + `" }
notify = ["service:web"]

[file."` + audited + `"]
content = "line1\nline2\n"
audit = true
`
		tmp := filepath.Join(cfgDir, ".a.toml.tmp")
		if err := os.WriteFile(tmp, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Rename(tmp, filepath.Join(cfgDir, "a.toml"))
	}
	writeCfg("1")
	os.WriteFile(audited, []byte("line1\nchanged\n"), 0o644)
	d := startDaemon(t, cfgDir)
	state := filepath.Dir(d.socket)
	d.waitState(t, "web", "running")
	waitFor(t, 10*time.Second, "rendered", func() bool {
		b, _ := os.ReadFile(page)
		return strings.HasPrefix(string(b), "v=1 cpus=")
	})

	// Reload: a changed template restarts web.
	time.Sleep(200 * time.Millisecond) // let the boot-time restart settle
	pid := d.waitState(t, "web", "running")["pid"]
	writeCfg("2")
	waitFor(t, 10*time.Second, "re-rendered", func() bool {
		b, _ := os.ReadFile(page)
		return strings.HasPrefix(string(b), "v=2 ")
	})
	waitFor(t, 10*time.Second, "web restarted", func() bool {
		st := d.status(t, "web")
		return st["state"] == "running" && st["pid"] != pid
	})

	// Invalid config: kept running on the last good one, error in the report.
	os.WriteFile(filepath.Join(cfgDir, "b.toml"), []byte("[file.\"/x\"]\ncontnet = \"y\"\n"), 0o644)
	var rep map[string]any
	waitFor(t, 10*time.Second, "config error report", func() bool {
		out, err := d.unit("report", "--json", "--state", state)
		if err != nil || json.Unmarshal([]byte(out), &rep) != nil {
			return false
		}
		e, _ := rep["config_error"].(string)
		return strings.Contains(e, filepath.Join(cfgDir, "b.toml")+":2: unknown key")
	})
	out, err := d.unit("report", "--state", state)
	if err != nil || !strings.Contains(out, "config error (last good config still running)") {
		t.Errorf("report: %v\n%s", err, out)
	}
	os.Remove(filepath.Join(cfgDir, "b.toml"))
	waitFor(t, 10*time.Second, "config valid again", func() bool {
		out, err := d.unit("report", "--json", "--state", state)
		return err == nil && !strings.Contains(out, "config_error")
	})

	// Audit: drift left alone, dry run shows the diff.
	out, err = d.unit("apply", "--dry-run")
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	for _, want := range []string{"@@ -1,2 +1,2 @@\n line1\n-changed\n+line2\n", "file:" + audited + ": drift (audit, not repaired): content 14 bytes"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if b, _ := os.ReadFile(audited); string(b) != "line1\nchanged\n" {
		t.Error("audited file repaired")
	}

	out, err = d.unit("facts", "--json", "--config", cfgDir)
	var facts map[string]any
	if err != nil || json.Unmarshal([]byte(out), &facts) != nil || facts["cpus"].(float64) < 1 || facts["kernel"] == "" {
		t.Errorf("facts: %v\n%s", err, out)
	}
}

// An exec that requires a service runs again when the supervisor reports
// the service running (a supervisor event, not a timer).
func TestHostCMExecAfterServiceUp(t *testing.T) {
	cfgDir, data := t.TempDir(), t.TempDir()
	ready, done := filepath.Join(data, "ready"), filepath.Join(data, "done")
	src := `
[service.db]
exec  = ["/bin/sh", "-c", "sleep 0.5; touch ` + ready + `; exec sleep 1000"]
ready = "exec:test -e ` + ready + `"

[exec.initdb]
command  = ["/bin/sh", "-c", "test -e ` + ready + ` && touch ` + done + `"]
creates  = "` + done + `"
requires = ["service:db"]
`
	os.WriteFile(filepath.Join(cfgDir, "a.toml"), []byte(src), 0o644)
	d := startDaemon(t, cfgDir)
	d.waitState(t, "db", "running")
	waitFor(t, 10*time.Second, "initdb after db is up", func() bool {
		_, err := os.Stat(done)
		return err == nil
	})
}

// `unit check` also finds a cycle made with an automatic edge.
func TestCheckAutomaticEdgeCycle(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.toml"), []byte("[dir.\"/srv/c\"]\nrequires = [\"file:/srv/c/x\"]\n[file.\"/srv/c/x\"]\ncontent = \"x\"\n"), 0o644)
	out, err := exec.Command(unitBin, "check", "--config", dir).CombinedOutput()
	want := filepath.Join(dir, "a.toml") + ":1: dependency cycle (with automatic edges): dir:/srv/c -> file:/srv/c/x -> dir:/srv/c"
	if err == nil || !strings.Contains(string(out), want) {
		t.Fatalf("%v\n%s\nwant %s", err, out, want)
	}
}

package cm

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// An exec that runs for a long time converges beside the loop: drift of an
// unrelated file is repaired while it runs, a file that requires the exec
// waits for it, and the exec's outcome is reported when it ends. A gate
// file, not a timer, decides when the command ends.
func TestLongExecDoesNotStallRepairs(t *testing.T) {
	dir := t.TempDir()
	free, after := filepath.Join(dir, "free"), filepath.Join(dir, "after")
	made, gate, started := filepath.Join(dir, "made"), filepath.Join(dir, "gate"), filepath.Join(dir, "started")
	src := `
[file."` + free + `"]
content = "free\n"

[exec.slow]
command = ["/bin/sh", "-c", "echo x >> ` + started + `; while [ ! -e ` + gate + ` ]; do sleep 0.02; done; touch ` + made + `"]
creates = "` + made + `"
timeout = "60s"

[file."` + after + `"]
content = "after\n"
requires = ["exec:slow"]
`
	os.WriteFile(gate, nil, 0o644)
	rec := &recorder{}
	e := start(t, WithEvents(rec.emit))
	e.SetConfig(loadCfg(t, src))
	waitFor(t, "first convergence", func() bool {
		return hasContent(free, "free\n")() && hasContent(after, "after\n")() && exists(made)
	})

	// The command now runs until the gate comes back.
	os.Remove(gate)
	os.Remove(started)
	os.Remove(made)
	waitFor(t, "exec running", func() bool { return exists(started) })
	os.WriteFile(free, []byte("drift"), 0o644)
	os.WriteFile(after, []byte("drift"), 0o644)
	waitFor(t, "unrelated drift repaired while the exec runs", hasContent(free, "free\n"))
	time.Sleep(200 * time.Millisecond)
	if exists(made) {
		t.Fatal("the exec ended early: the test proves nothing")
	}
	if !hasContent(after, "drift")() {
		t.Fatal("a file that requires the running exec was converged before it ended")
	}

	// `unit apply` meanwhile answers at once and leaves the running exec
	// and what requires it alone (no second copy of the command).
	if rep := mustApply(t, e); rep.Failed != 0 {
		t.Errorf("apply during the exec: %s", rep)
	}
	if b, _ := os.ReadFile(started); string(b) != "x\n" {
		t.Errorf("command started %q times while it ran", b)
	}
	if !hasContent(after, "drift")() {
		t.Error("apply converged a file that requires the running exec")
	}

	os.WriteFile(gate, nil, 0o644)
	waitFor(t, "exec done", func() bool { return exists(made) })
	waitFor(t, "exec reported", func() bool { return rec.hasEvent("exec:slow", "repaired") })
	waitFor(t, "dependent repaired after the exec", hasContent(after, "after\n"))
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// A refresh_only exec notified by a changed file runs in the background
// too: the loop repairs other drift meanwhile.
func TestNotifiedExecRunsInBackground(t *testing.T) {
	dir := t.TempDir()
	src, free := filepath.Join(dir, "src"), filepath.Join(dir, "free")
	gate, started, ran := filepath.Join(dir, "gate"), filepath.Join(dir, "started"), filepath.Join(dir, "ran")
	cfg := func(v string) string {
		return `
[file."` + src + `"]
content = "` + v + `"
notify = ["exec:reload"]

[file."` + free + `"]
content = "free\n"

[exec.reload]
command = ["/bin/sh", "-c", "touch ` + started + `; while [ ! -e ` + gate + ` ]; do sleep 0.02; done; echo >> ` + ran + `"]
refresh_only = true
timeout = "60s"
`
	}
	os.WriteFile(gate, nil, 0o644)
	rec := &recorder{}
	e := start(t, WithEvents(rec.emit))
	e.SetConfig(loadCfg(t, cfg("v1")))
	waitFor(t, "first run", hasContent(ran, "\n"))

	os.Remove(gate)
	os.Remove(started)
	e.SetConfig(loadCfg(t, cfg("v2")))
	waitFor(t, "notified exec running", func() bool { return exists(started) })
	os.WriteFile(free, []byte("drift"), 0o644)
	waitFor(t, "drift repaired while the notified exec runs", hasContent(free, "free\n"))
	os.WriteFile(gate, nil, 0o644)
	waitFor(t, "second run", hasContent(ran, "\n\n"))
	waitFor(t, "refreshed event", func() bool { return rec.hasEvent("exec:reload", "refreshed") })
}

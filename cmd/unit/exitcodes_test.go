package main

import (
	"os"
	"strings"
	"testing"
)

// The exit codes of docs/cli.md's table: status NAME 0 when up, 3 when not,
// 4 when there is no such service; is-active/is-failed as systemctl.
func TestHostExitCodes(t *testing.T) {
	cfgDir := t.TempDir()
	writeConfig(t, cfgDir, "a.toml", `
[service.web]
exec = ["sleep", "1000"]

[service.once]
exec    = ["true"]
oneshot = true

[service.bad]
exec    = ["sh", "-c", "exit 7"]
restart = "never"

[service.killed]
exec    = ["sh", "-c", "kill -KILL $$"]
restart = "never"

[service.done]
exec    = ["true"]
restart = "on-failure"
`)
	d := startDaemon(t, cfgDir)
	d.waitState(t, "web", "running")
	d.waitState(t, "once", "exited")
	d.waitState(t, "bad", "exited")
	d.waitState(t, "killed", "exited")
	d.waitState(t, "done", "exited")

	check := func(want int, wantOut string, args ...string) {
		t.Helper()
		out, err := d.unit(args...)
		got := 0
		if err != nil {
			got = exitStatus(err)
		}
		if got != want || !strings.Contains(out, wantOut) {
			t.Errorf("unit %s: exit %d (want %d)\n%s", strings.Join(args, " "), got, want, out)
		}
	}
	check(0, "running", "status", "web")
	check(0, "exit 0", "status", "once")
	check(3, "exit 7", "status", "bad")
	check(4, `no service "nosuch"`, "status", "nosuch")
	check(0, "running", "is-active", "web")
	check(0, "exited", "is-active", "once")
	check(3, "exited", "is-active", "bad")
	check(4, "unknown", "is-active", "nosuch")
	check(1, "running", "is-failed", "web")
	// systemctl's failed: exited non-zero or by a signal, not restarted.
	check(0, "exited", "is-failed", "bad")
	check(0, "exited", "is-failed", "killed")
	check(1, "exited", "is-failed", "once")
	check(1, "exited", "is-failed", "done")
	check(4, "unknown", "is-failed", "nosuch")
	check(0, "web", "status") // nothing failed, config valid
	if out, err := d.unit("is-active", "-q", "bad"); exitStatus(err) != 3 || out != "" {
		t.Errorf("is-active -q bad: %v %q", err, out)
	}

	if out, err := d.unit("stop", "web"); err != nil {
		t.Fatalf("stop: %v\n%s", err, out)
	}
	check(3, "stopped", "status", "web")
	check(3, "stopped", "is-active", "web")
	check(0, "web", "status", "--json") // a stopped service is no failure
}

// A resource that failed to converge shows in unit status with its reason
// and makes it exit 3; once it converges it is gone from there.
func TestStatusShowsFailedResources(t *testing.T) {
	cfgDir, data := t.TempDir(), t.TempDir()
	blocker := data + "/blocker" // a file where a directory should be
	if err := os.WriteFile(blocker, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeConfig(t, cfgDir, "a.toml", `
[service.web]
exec = ["sleep", "1000"]

[file."`+blocker+`/page"]
content = "hi\n"
`)
	d := startDaemon(t, cfgDir)
	d.waitState(t, "web", "running")
	out, err := d.unit("status")
	if exitStatus(err) != 3 || !strings.Contains(out, "failed resources:\n  file:"+blocker+"/page: ") {
		t.Fatalf("status with a failed file: exit %d\n%s", exitStatus(err), out)
	}
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	if out, err := d.unit("apply"); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	if out, err := d.unit("status"); err != nil || strings.Contains(out, "failed resources") {
		t.Errorf("status once the file converged: %v\n%s", err, out)
	}
}

package main

// Host-mode integration tests: the real binary, `unit run` as a child
// subreaper with its own socket, driven by the real command line.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var unitBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "unit-host-")
	if err != nil {
		panic(err)
	}
	// unit, and unit-build beside it as make build puts them.
	unitBin = filepath.Join(dir, "unit")
	for _, b := range [][]string{{"-o", unitBin}, {"-tags", "builders", "-o", filepath.Join(dir, builderName)}} {
		build := exec.Command("go", append(append([]string{"build"}, b...), ".")...)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// hostDaemon is one `unit run` in the background.
type hostDaemon struct {
	t      *testing.T
	cmd    *exec.Cmd
	socket string
	state  string
	out    *bytes.Buffer
	done   chan error
}

// startDaemon starts `unit run` and returns once it has handed the
// services over (running or degraded), so a test reads the services'
// states, never the empty list of a daemon still starting.
func startDaemon(t *testing.T, configDir string) *hostDaemon {
	t.Helper()
	d := launchDaemon(t, configDir, t.TempDir())
	d.waitStarted(t)
	return d
}

// launchDaemon starts `unit run` with state dir state and returns at once.
func launchDaemon(t *testing.T, configDir, state string) *hostDaemon {
	t.Helper()
	return launch(t, exec.Command(unitBin, "run", "--config", configDir, "--state", state), filepath.Join(state, "unit.sock"), state)
}

// launch starts cmd, a `unit run` whose socket and state dir are given,
// and returns at once; the test's cleanup stops it.
func launch(t *testing.T, cmd *exec.Cmd, socket, state string) *hostDaemon {
	t.Helper()
	d := &hostDaemon{t: t, cmd: cmd, socket: socket, state: state, out: &bytes.Buffer{}, done: make(chan error, 1)}
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() {
		d.cmd.Process.Signal(os.Interrupt)
		select {
		case <-d.done:
		case <-time.After(20 * time.Second):
			d.cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("unit run output:\n%s", d.out.String())
		}
	})
	return d
}

// stop interrupts `unit run`, waits for it to exit and returns all it
// printed (reading the output while it runs would race its writes).
func (d *hostDaemon) stop(t *testing.T) string {
	t.Helper()
	d.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-d.done:
		d.done <- err // for the cleanup
	case <-time.After(20 * time.Second):
		t.Fatal("unit run did not stop within 20 s of SIGINT")
	}
	return d.out.String()
}

// waitStarted waits, with `unit is-system-running --wait`, for the daemon
// to leave starting; a daemon that exits meanwhile fails the test.
func (d *hostDaemon) waitStarted(t *testing.T) {
	t.Helper()
	cmd := exec.Command(unitBin, "is-system-running", "--wait", "--timeout", "60s")
	cmd.Env = append(os.Environ(), "UNIT_SOCKET="+d.socket)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		// 1 with "degraded": a test may start a daemon with a service
		// meant to fail.
		if got := strings.TrimSpace(out.String()); got != "running" && got != "degraded" {
			t.Fatalf("unit is-system-running --wait: %v\n%s", err, got)
		}
	case err := <-d.done:
		d.done <- err // for the cleanup
		cmd.Process.Kill()
		<-waited
		t.Fatalf("unit run exited while starting: %v", err)
	}
}

// unit runs a client command against the daemon.
func (d *hostDaemon) unit(args ...string) (string, error) {
	cmd := exec.Command(unitBin, args...)
	cmd.Env = append(os.Environ(), "UNIT_SOCKET="+d.socket)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (d *hostDaemon) status(t *testing.T, name string) map[string]any {
	t.Helper()
	out, err := d.unit("status", "--json")
	if err != nil && exitStatus(err) != 3 { // 3: something failed, which tests look at too
		t.Fatalf("status: %v\n%s", err, out)
	}
	var st struct{ Services []map[string]any }
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status json: %v\n%s", err, out)
	}
	for _, s := range st.Services {
		if s["name"] == name {
			return s
		}
	}
	t.Fatalf("no service %s in %s", name, out)
	return nil
}

func (d *hostDaemon) waitState(t *testing.T, name, state string) map[string]any {
	t.Helper()
	var last map[string]any
	waitFor(t, 20*time.Second, name+" "+state, func() bool {
		last = d.status(t, name)
		return last["state"] == state
	})
	return last
}

func waitFor(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exitStatus is the exit code in err from running a command, or -1.
func exitStatus(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

func writeConfig(t *testing.T, dir, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestHostRunServicesAndFiles(t *testing.T) {
	cfgDir, data := t.TempDir(), t.TempDir()
	page := filepath.Join(data, "www", "index.html")
	writeConfig(t, cfgDir, "10-services.toml", `
[service.db]
exec  = ["/bin/sh", "-c", "echo db up; sleep 0.2; echo >&3; exec sleep 1000"]
ready = "fd:3"

[service.web]
exec     = ["/bin/sh", "-c", "echo web started; echo oops >&2; exec sleep 1000"]
requires = ["db"]
`)
	writeConfig(t, cfgDir, "20-files.toml", fmt.Sprintf(`
[file.%q]
content = "hello\n"
mode    = "0640"
notify  = ["service:web"]
`, page))
	d := startDaemon(t, cfgDir)

	db := d.waitState(t, "db", "running")
	web := d.waitState(t, "web", "running")
	if web["pid"] == db["pid"] || web["pid"] == nil {
		t.Fatalf("bad pids: web %v db %v", web["pid"], db["pid"])
	}
	// The managed file exists with content and mode.
	waitFor(t, 10*time.Second, "managed file", func() bool {
		b, err := os.ReadFile(page)
		return err == nil && string(b) == "hello\n"
	})
	if fi, _ := os.Stat(page); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode = %v", fi.Mode().Perm())
	}

	// Logs: stdout and stderr captured in order.
	out, err := d.unit("logs", "web")
	if err != nil || !strings.Contains(out, "web started") || !strings.Contains(out, "oops") {
		t.Fatalf("logs web: %v\n%s", err, out)
	}
	if strings.Index(out, "web started") > strings.Index(out, "oops") {
		t.Fatalf("log order wrong:\n%s", out)
	}

	// Drift: delete → restored, and web restarted (the file really changed).
	pid := web["pid"]
	if err := os.Remove(page); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "file restored after delete", func() bool {
		b, err := os.ReadFile(page)
		return err == nil && string(b) == "hello\n"
	})
	waitFor(t, 10*time.Second, "web restarted by notify", func() bool {
		s := d.status(t, "web")
		return s["state"] == "running" && s["pid"] != pid
	})

	// Overwrite → restored.
	if err := os.WriteFile(page, []byte("defaced\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "file restored after overwrite", func() bool {
		b, err := os.ReadFile(page)
		return err == nil && string(b) == "hello\n"
	})

	// stop web; db keeps running. start web again.
	if out, err := d.unit("stop", "web"); err != nil {
		t.Fatalf("stop: %v %s", err, out)
	}
	if s := d.status(t, "web"); s["state"] != "stopped" {
		t.Fatalf("after stop: %v", s)
	}
	if s := d.status(t, "db"); s["state"] != "running" {
		t.Fatalf("db after stopping web: %v", s)
	}
	if out, err := d.unit("start", "web"); err != nil {
		t.Fatalf("start: %v %s", err, out)
	}
	d.waitState(t, "web", "running")

	// restart gives a new pid.
	before := d.status(t, "web")["pid"]
	if out, err := d.unit("restart", "web"); err != nil {
		t.Fatalf("restart: %v %s", err, out)
	}
	waitFor(t, 10*time.Second, "new pid after restart", func() bool {
		s := d.status(t, "web")
		return s["state"] == "running" && s["pid"] != before
	})

	// Unknown service: a clear error, non-zero exit.
	if out, err := d.unit("stop", "nosuch"); err == nil || !strings.Contains(out, "nosuch") {
		t.Fatalf("stop nosuch: err=%v out=%s", err, out)
	}
	// Human status lists both.
	out, err = d.unit("status")
	if err != nil || !strings.Contains(out, "web") || !strings.Contains(out, "db") {
		t.Fatalf("status: %v\n%s", err, out)
	}
}

func TestHostRunRestartsCrashedService(t *testing.T) {
	cfgDir, data := t.TempDir(), t.TempDir()
	counter := filepath.Join(data, "count")
	writeConfig(t, cfgDir, "a.toml", fmt.Sprintf(`
[service.crashy]
exec    = ["/bin/sh", "-c", "echo x >> %s; exit 3"]
restart = "on-failure"
`, counter))
	d := startDaemon(t, cfgDir)
	// Restarted a few times (backoff grows), and the exit code is recorded.
	waitFor(t, 20*time.Second, "three starts", func() bool {
		b, _ := os.ReadFile(counter)
		return strings.Count(string(b), "x") >= 3
	})
	s := d.status(t, "crashy")
	if !strings.Contains(fmt.Sprint(s["last_exit"]), "exit 3") {
		t.Fatalf("last_exit = %v", s["last_exit"])
	}
	if n, _ := s["restarts"].(float64); n < 2 {
		t.Fatalf("restarts = %v", s["restarts"])
	}
}

func TestCheckReportsEveryError(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, "a.toml", `
[service.web]
exec = ["/bin/true"]
restrat = "always"
requires = ["service:nope"]
`)
	writeConfig(t, dir, "b.toml", `
[service.web]
exec = ["/bin/true"]

[file."relative/path"]
content = "x"
`)
	out, err := exec.Command(unitBin, "check", "--config", dir).CombinedOutput()
	if err == nil {
		t.Fatalf("check passed a bad config:\n%s", out)
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit = %v, want 1", err)
	}
	for _, want := range []string{
		`a.toml:4: unknown key "service.web.restrat" (did you mean "restart"?)`,
		`a.toml:5: service "web" requires "service:nope", which is not defined`,
		`b.toml:2: service "web" is already defined at ` + filepath.Join(dir, "a.toml") + `:2`,
		`b.toml:5: file "relative/path": path must be absolute`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	// A good config passes.
	good := t.TempDir()
	writeConfig(t, good, "a.toml", "[service.x]\nexec = [\"/bin/true\"]\n")
	if out, err := exec.Command(unitBin, "check", "--config", good).CombinedOutput(); err != nil {
		t.Fatalf("good config: %v\n%s", err, out)
	}
}

func TestApplyOnce(t *testing.T) {
	cfgDir, data := t.TempDir(), t.TempDir()
	target := filepath.Join(data, "sub", "motd")
	writeConfig(t, cfgDir, "a.toml", fmt.Sprintf("[file.%q]\ncontent = \"welcome\\n\"\nmode = \"0600\"\n", target))
	run := func(args ...string) string {
		out, err := exec.Command(unitBin, append([]string{"apply", "--once", "--config", cfgDir}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("apply %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	out := run("--dry-run")
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Fatalf("dry run created the file:\n%s", out)
	}
	if !strings.Contains(out, target) {
		t.Fatalf("dry run does not mention %s:\n%s", target, out)
	}
	out = run()
	if b, err := os.ReadFile(target); err != nil || string(b) != "welcome\n" {
		t.Fatalf("apply did not write: %v %q\n%s", err, b, out)
	}
	fi1, _ := os.Stat(target)
	out = run()
	fi2, _ := os.Stat(target)
	if !fi1.ModTime().Equal(fi2.ModTime()) {
		t.Fatalf("no-op apply rewrote the file:\n%s", out)
	}
	if strings.Contains(out, target+":") {
		t.Fatalf("no-op apply reports a change:\n%s", out)
	}
}

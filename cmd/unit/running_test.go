package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// gatedConfig is a service and a file whose source is a fifo: the first
// convergence blocks reading it until the test opens the gate. (An exec
// would not do: execs run beside the loop, and the first pass does not
// wait for one already in flight.)
func gatedConfig(t *testing.T, cfgDir string) (fifo string) {
	t.Helper()
	data := t.TempDir()
	fifo = filepath.Join(data, "gate")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	writeConfig(t, cfgDir, "a.toml", `
[service.web]
exec = ["sleep", "1000"]

[file."`+filepath.Join(data, "page")+`"]
source = "`+fifo+`"
`)
	return fifo
}

// openGate lets the first convergence end: opening the fifo for writing
// waits for the engine to have it open for reading; a regular file with
// the same content takes its place before the engine reads to the end,
// so no later check blocks on it.
func openGate(t *testing.T, fifo string) {
	t.Helper()
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("go\n"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fifo+".tmp", []byte("go\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(fifo+".tmp", fifo); err != nil {
		t.Fatal(err)
	}
}

// startUnit starts a client command in the background.
func startUnit(t *testing.T, socket string, args ...string) (out *bytes.Buffer, done <-chan error, pid int) {
	t.Helper()
	cmd := exec.Command(unitBin, args...)
	cmd.Env = append(os.Environ(), "UNIT_SOCKET="+socket)
	out = &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ch, exited := make(chan error, 1), make(chan struct{})
	go func() {
		ch <- cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	return out, ch, cmd.Process.Pid
}

// While the first convergence runs, the socket answers "starting" (status
// and its header, is-system-running exits 1, a service is not "no such
// service" but not handed over yet); is-system-running --wait returns
// "running" once the services are handed over.
func TestHostSystemStartingUntilHandOver(t *testing.T) {
	cfgDir := t.TempDir()
	fifo := gatedConfig(t, cfgDir)
	d := launchDaemon(t, cfgDir, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := waitSocket(ctx, d.socket); err != nil {
		t.Fatal(err) // the cleanup shows unit run's output
	}

	out, err := d.unit("is-system-running")
	if exitStatus(err) != 1 || strings.TrimSpace(out) != "starting" {
		t.Errorf("is-system-running while starting: exit %d\n%s", exitStatus(err), out)
	}
	out, err = d.unit("status", "--json")
	var st struct {
		State    string
		Services []map[string]any
	}
	if err != nil || json.Unmarshal([]byte(out), &st) != nil || st.State != "starting" || len(st.Services) != 0 {
		t.Errorf("status --json while starting: %v\n%s", err, out)
	}
	if out, err := d.unit("status"); err != nil || !strings.HasPrefix(out, "system starting\n") {
		t.Errorf("status while starting: %v\n%s", err, out)
	}
	if out, err := d.unit("status", "web"); exitStatus(err) != 4 || !strings.Contains(out, "unit is starting") {
		t.Errorf("status web while starting: exit %d\n%s", exitStatus(err), out)
	}
	// The daemon answers a wait that ends first with the state then.
	if out, err := d.unit("is-system-running", "--wait", "--timeout", "1s"); exitStatus(err) != 1 || strings.TrimSpace(out) != "starting" {
		t.Errorf("is-system-running --wait --timeout 1s while starting: exit %d\n%s", exitStatus(err), out)
	}

	waitOut, waited, _ := startUnit(t, d.socket, "is-system-running", "--wait")
	openGate(t, fifo)
	if err := <-waited; err != nil || strings.TrimSpace(waitOut.String()) != "running" {
		t.Fatalf("is-system-running --wait: %v\n%s", err, waitOut)
	}
	if out, err := d.unit("status"); err != nil || !strings.HasPrefix(out, "system running\n") || !strings.Contains(out, "web") {
		t.Errorf("status once running: %v\n%s", err, out)
	}
}

// is-system-running --wait started before `unit run` (its state directory
// not there yet) waits for the socket to appear, then for the hand-over.
func TestHostIsSystemRunningWaitsForTheSocket(t *testing.T) {
	cfgDir := t.TempDir()
	writeConfig(t, cfgDir, "a.toml", "[service.web]\nexec = [\"sleep\", \"1000\"]\n")
	state := filepath.Join(t.TempDir(), "state")
	socket := filepath.Join(state, "unit.sock")
	out, waited, pid := startUnit(t, socket, "is-system-running", "--wait")
	// It watches (inotify) before the daemon exists, so the test shows
	// the wait, not a daemon that happened to be up first.
	waitFor(t, 30*time.Second, "the client's inotify watch", func() bool { return hasInotifyWatch(pid) })
	select {
	case err := <-waited:
		t.Fatalf("returned before unit run started: %v\n%s", err, out)
	default:
	}
	d := launchDaemon(t, cfgDir, state)
	if err := <-waited; err != nil || strings.TrimSpace(out.String()) != "running" {
		t.Fatalf("is-system-running --wait: %v\n%s", err, out)
	}
	if st := d.status(t, "web"); st["name"] != "web" {
		t.Errorf("status: %v", st)
	}
}

// At shutdown the socket still answers, with "stopping", while services
// stop; what would change the system is refused.
func TestHostSystemStopping(t *testing.T) {
	cfgDir, data := t.TempDir(), t.TempDir()
	fifo := filepath.Join(data, "stop")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// web stops only once the test writes into the fifo.
	writeConfig(t, cfgDir, "a.toml", `
[service.web]
exec = ["/bin/sh", "-c", "trap 'read line < `+fifo+`; kill $!; exit 0' TERM; sleep 1000 & wait"]
stop_timeout = "10m"

[service.other]
exec = ["sleep", "1000"]
`)
	d := startDaemon(t, cfgDir)
	d.waitState(t, "web", "running")
	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "web stopping", func() bool {
		return d.status(t, "web")["state"] == "stopping"
	})
	out, err := d.unit("is-system-running")
	if exitStatus(err) != 1 || strings.TrimSpace(out) != "stopping" {
		t.Errorf("is-system-running while stopping: exit %d\n%s", exitStatus(err), out)
	}
	if out, err := d.unit("restart", "other"); err == nil || !strings.Contains(out, "unit is stopping") {
		t.Errorf("restart while stopping: %v\n%s", err, out)
	}
	openGate(t, fifo)
	if err := <-d.done; err != nil {
		t.Errorf("unit run: %v\n%s", err, d.out)
	}
	d.done <- nil // for the cleanup
}

// hasInotifyWatch says whether process pid holds an inotify watch.
func hasInotifyWatch(pid int) bool {
	base := filepath.Join("/proc", strconv.Itoa(pid), "fdinfo")
	infos, _ := os.ReadDir(base)
	for _, fi := range infos {
		b, _ := os.ReadFile(filepath.Join(base, fi.Name()))
		if bytes.Contains(b, []byte("inotify wd:")) {
			return true
		}
	}
	return false
}

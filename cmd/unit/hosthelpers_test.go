package main

// Host mode runs unit's own helpers: [web] as the running binary, told
// the daemon's socket and state (UNIT_SOCKET, UNIT_STATE), and the
// platform facts follow --state.

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// hostEnv is the test's environment without a daemon's variables (a test
// run as a unit service has them) and with a runtime dir of its own, so
// that nothing reaches a daemon by default: only what is told.
func hostEnv(t *testing.T) []string {
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "UNIT_SOCKET=") && !strings.HasPrefix(e, "UNIT_STATE=") && !strings.HasPrefix(e, "XDG_RUNTIME_DIR=") {
			env = append(env, e)
		}
	}
	return append(env, "XDG_RUNTIME_DIR="+t.TempDir())
}

// startDaemonAt is `unit run` with its state and socket where given.
func startDaemonAt(t *testing.T, configDir, state, socket string) *hostDaemon {
	t.Helper()
	cmd := exec.Command(unitBin, "run", "--config", configDir, "--state", state, "--socket", socket)
	cmd.Env = hostEnv(t)
	return launch(t, cmd, socket, state)
}

// serviceState is a service's state, "" while the daemon does not list
// it (not up yet, or not yet handed its services).
func (d *hostDaemon) serviceState(name string) string {
	out, _ := d.unit("status", "--json")
	var st struct{ Services []map[string]any }
	if json.Unmarshal([]byte(out), &st) != nil {
		return ""
	}
	for _, s := range st.Services {
		if s["name"] == name {
			state, _ := s["state"].(string)
			return state
		}
	}
	return ""
}

func (d *hostDaemon) waitRunning(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		waitFor(t, 30*time.Second, name+" running", func() bool {
			select {
			case err := <-d.done:
				t.Fatalf("unit run exited: %v", err)
			default:
			}
			return d.serviceState(name) == "running"
		})
	}
}

// freePort is a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestHostWebServesThisDaemon: [web] on a host runs the running unit
// binary (there is no /bin/unit), and its page shows the services of the
// daemon that runs it, on a socket that is not the default one.
func TestHostWebServesThisDaemon(t *testing.T) {
	cfgDir, state, sockDir := t.TempDir(), t.TempDir(), t.TempDir()
	port := freePort(t)
	writeConfig(t, cfgDir, "a.toml", fmt.Sprintf(`
[web]
listen = "127.0.0.1:%d"

[service.only-here-7f3a]
exec = ["/bin/sh", "-c", "exec sleep 1000"]
`, port))
	d := startDaemonAt(t, cfgDir, state, filepath.Join(sockDir, "x.sock"))
	d.waitRunning(t, "only-here-7f3a", "unit-web")

	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.Contains(string(body), "only-here-7f3a") {
		logs, _ := d.unit("logs", "unit-web")
		t.Fatalf("status page: %s\n%s\nunit-web's log:\n%s", resp.Status, body, logs)
	}
}

// TestHostServicesToldTheSocket: every service gets UNIT_SOCKET and
// UNIT_STATE of its daemon, unless its own env sets them.
func TestHostServicesToldTheSocket(t *testing.T) {
	cfgDir, state, sockDir := t.TempDir(), t.TempDir(), t.TempDir()
	socket := filepath.Join(sockDir, "x.sock")
	writeConfig(t, cfgDir, "a.toml", `
[service.told]
exec = ["/bin/sh", "-c", "echo socket=$UNIT_SOCKET state=$UNIT_STATE; exec sleep 1000"]

[service.own]
exec = ["/bin/sh", "-c", "echo socket=$UNIT_SOCKET; exec sleep 1000"]
env  = { UNIT_SOCKET = "/somewhere/else.sock" }
`)
	d := startDaemonAt(t, cfgDir, state, socket)
	d.waitRunning(t, "told", "own")
	for name, want := range map[string]string{
		"told": "socket=" + socket + " state=" + state,
		"own":  "socket=/somewhere/else.sock",
	} {
		var out string
		waitFor(t, 10*time.Second, name+"'s line", func() bool {
			out, _ = d.unit("logs", name)
			return strings.Contains(out, "socket=")
		})
		if !strings.Contains(out, want+"\n") {
			t.Errorf("%s's environment: want %q in\n%s", name, want, out)
		}
	}
}

// TestHostFactsFollowState: the platform facts are STATE/platform.json:
// the daemon's templates render them, a change of the file renders again,
// and `unit facts --state` shows them.
func TestHostFactsFollowState(t *testing.T) {
	cfgDir, state, data := t.TempDir(), t.TempDir(), t.TempDir()
	facts := filepath.Join(state, "platform.json")
	if err := os.WriteFile(facts, []byte(`{"role":"db"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(data, "role")
	writeConfig(t, cfgDir, "a.toml", fmt.Sprintf("[file.%q]\ntemplate = \"role={{.facts.platform.role}}\\n\"\n", out))
	startDaemonAt(t, cfgDir, state, filepath.Join(state, "unit.sock"))
	waitFor(t, 30*time.Second, "the template rendered from STATE/platform.json", func() bool {
		b, _ := os.ReadFile(out)
		return string(b) == "role=db\n"
	})

	tmp := facts + ".tmp"
	if err := os.WriteFile(tmp, []byte(`{"role":"web"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, facts); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the template rendered again after a change of the facts", func() bool {
		b, _ := os.ReadFile(out)
		return string(b) == "role=web\n"
	})

	cmd := exec.Command(unitBin, "facts", "--json", "--config", cfgDir, "--state", state)
	cmd.Env = hostEnv(t)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("unit facts: %v\n%s", err, b)
	}
	var f struct{ Platform map[string]string }
	if err := json.Unmarshal(b, &f); err != nil || f.Platform["role"] != "web" {
		t.Fatalf("unit facts --state: %v\n%s", err, b)
	}
	// A service of the daemon is told its state (UNIT_STATE): no flag.
	cmd = exec.Command(unitBin, "facts", "--json", "--config", cfgDir)
	cmd.Env = append(hostEnv(t), "UNIT_STATE="+state)
	if b, err = cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), `"role": "web"`) {
		t.Fatalf("unit facts with UNIT_STATE: %v\n%s", err, b)
	}
}

// TestCheckFleetAgentNeedsUnitFleet: on a host, [fleet] agent = true
// without a unit-fleet beside unit or in PATH is an error at the key,
// not a warning and a service that fails later.
func TestCheckFleetAgentNeedsUnitFleet(t *testing.T) {
	cfgDir, bin := t.TempDir(), t.TempDir()
	writeConfig(t, cfgDir, "a.toml", "[fleet]\nagent = true\nurl = \"tls://10.0.2.2:4222\"\n")
	check := func(path string) (string, error) {
		cmd := exec.Command(unitBin, "check", "--config", cfgDir)
		cmd.Env = append(hostEnv(t), "PATH="+path)
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	out, err := check(bin)
	want := filepath.Join(cfgDir, "a.toml") + ":2: [fleet] agent = true: unit-fleet is neither beside " + unitBin + " nor in PATH"
	if exitStatus(err) != 1 || !strings.Contains(out, want) {
		t.Fatalf("without unit-fleet: %v\n%s\nwant %s", err, out, want)
	}
	if err := os.WriteFile(filepath.Join(bin, "unit-fleet"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := check(bin); err != nil || strings.Contains(out, "warning") {
		t.Fatalf("with unit-fleet in PATH: %v\n%s", err, out)
	}
}

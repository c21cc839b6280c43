package qemutests

import (
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/image"
)

// TestMachineControl drives a running guest from the host through the
// control port `unit image run` gives it: unit --machine DIR status, logs,
// restart, a follow that is cut off (the next session must still work),
// and power off.
func TestMachineControl(t *testing.T) {
	if image.ControlPort != api.ControlPort {
		t.Fatalf("image.ControlPort %q != api.ControlPort %q", image.ControlPort, api.ControlPort)
	}
	dir := buildImage(t, exampleWith(t, ""))
	mdir := t.TempDir()
	if err := api.EnsureMachineDir(mdir); err != nil {
		t.Fatal(err)
	}
	vm := bootWith(t, dir, image.RunOptions{Control: api.MachineSocket(mdir)})
	vm.Expect(`^unit: all \d+ services running`, 0, 90*time.Second)
	unit := machineCLI(t, mdir, 60*time.Second)
	pidOf := func(status string) string {
		m := regexp.MustCompile(`(?m)^web\s+running\s+(\d+)`).FindStringSubmatch(status)
		if m == nil {
			t.Fatalf("web not running:\n%s", status)
		}
		return m[1]
	}
	status := unit("status")
	before := pidOf(status)
	// The image says which release it is (built outside git: a hash of
	// its description).
	if !regexp.MustCompile(`^system running, release sha256:[0-9a-f]{12}\n`).MatchString(status) {
		t.Errorf("status shows no release:\n%s", status)
	}
	// PID 1's own log, interleaved with the services' (unit logs, no name),
	// each line stamped once, by the log (no slog time= besides).
	if out := unit("logs", "unit", "-n", "5"); !regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\S+ level=\w+ msg=`).MatchString(out) || strings.Contains(out, " time=") {
		t.Errorf("unit logs unit through the machine port:\n%s", out)
	}

	// A follow cut off by its client: the guest cannot tell until the next
	// session comes, which must get its own answers only.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	exec.CommandContext(ctx, unitBinary, "--machine", mdir, "logs", "-f").Run()
	cancel()

	unit("restart", "web")
	var after string
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := unit("status")
		if m := regexp.MustCompile(`(?m)^web\s+running\s+(\d+)`).FindStringSubmatch(st); m != nil && m[1] != before {
			after = m[1]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("web did not come back with a new pid:\n%s", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if out := unit("status", "web"); !strings.Contains(out, "pid:") || !strings.Contains(out, after) {
		t.Errorf("status web:\n%s", out)
	}
	// Metrics, with the cgroup v2 figures only the guest has (the host's
	// cgroups are v1): web's memory and CPU.
	metrics := unit("metrics")
	for _, re := range []string{`(?m)^unit_service_memory_bytes\{service="web"\} [1-9]\d*$`, `(?m)^unit_service_cpu_seconds_total\{service="web"\} [0-9.]+$`,
		`(?m)^unit_service_state\{service="web",state="running"\} 1$`, `(?m)^unit_release_info\{release="sha256:[0-9a-f]{12}"\} 1$`} {
		if !regexp.MustCompile(re).MatchString(metrics) {
			t.Errorf("unit metrics lacks %s:\n%s", re, metrics)
		}
	}
	// A command a machine cannot take is refused on the host.
	if out, err := exec.Command(unitBinary, "--machine", mdir, "pkg", "ls").CombinedOutput(); err == nil || !strings.Contains(string(out), "does not talk to a machine") {
		t.Errorf("unit --machine DIR pkg ls: %v\n%s", err, out)
	}
	unit("poweroff")
	if err := vm.Wait(60 * time.Second); err != nil {
		t.Fatalf("no power off: %v", err)
	}
}

// machineCLI runs `unit --machine mdir ARGS...` on the host and fails the
// test when it fails; it returns the combined output.
func machineCLI(t *testing.T, mdir string, timeout time.Duration) func(args ...string) string {
	return func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		out, err := exec.CommandContext(ctx, unitBinary, append([]string{"--machine", mdir}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("unit --machine %s %s: %v\n%s", mdir, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
}

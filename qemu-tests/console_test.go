package qemutests

import (
	"testing"
	"time"
)

// TestConsoleShell types at the example's console shell ([system] console
// = "shell"), as a person after `make run` would: unit status prints the
// table; the shell comes back after exit; the console shows one line per
// state change (no structured log lines), and PID 1's structured log is
// in `unit logs unit`.
func TestConsoleShell(t *testing.T) {
	dir := buildImage(t, exampleWith(t, ""))
	vm := boot(t, dir)
	all := vm.Expect(`^unit: all \d+ services running`, 0, 90*time.Second)
	vm.Type("unit status\n")
	vm.Expect(`web\s+running\s+\d+`, all, 30*time.Second)
	vm.Type("unit logs unit | grep -c 'level=I[N]FO' | sed 's/^/INFO-LINES=/'\n") // [N]: the echoed command must not match below
	vm.Expect(`INFO-LINES=[1-9]`, all, 30*time.Second)
	vm.Type("exit\n")
	again := vm.Expect(`unit: service:console (backoff|stopped|starting)`, all, 30*time.Second)
	vm.Expect(`unit: service:console running`, again, 30*time.Second)
	vm.Type("echo TYPED-$((6*7))\n")
	vm.Expect(`TYPED-42$`, again, 30*time.Second)
	if vm.sees(`level=INFO`, 0) {
		t.Errorf("structured INFO lines on the console; want one short line per event")
	}
	vm.Type("unit poweroff\n")
	if err := vm.Wait(60 * time.Second); err != nil {
		t.Fatalf("no power off: %v", err)
	}
}

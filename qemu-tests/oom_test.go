package qemutests

import (
	"testing"
	"time"
)

// hog outgrows its cgroup's memory limit (cgroup v2, only in the guest).
const hog = `
[service.hog]
restart = "never"
requires = ["service:web"]
exec = ["/bin/sh", "-c", "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived ${#x}"]

[service.hog.limits]
memory = "32M"
`

// TestOOMKillsOnlyTheService: a service that eats memory past its limit
// is killed by the kernel, only it, and unit says why; the others run on.
func TestOOMKillsOnlyTheService(t *testing.T) {
	dir := buildImage(t, exampleWith(t, hog))
	vm := boot(t, dir)
	at := vm.Expect(`unit: service:hog \w+ \(out of memory \(memory limit 33554432 bytes\): signal SIGKILL\)`, 0, 120*time.Second)
	if vm.sees(`\[hog\] survived`, 0) {
		t.Fatal("hog was not limited")
	}
	vm.Type("unit status\n")
	vm.Expect(`web\s+running\s+\d+`, at, 30*time.Second)
	vm.Expect(`syslogd\s+running\s+\d+`, at, 30*time.Second)
	vm.Type("unit poweroff\n")
	if err := vm.Wait(60 * time.Second); err != nil {
		t.Fatalf("no power off: %v", err)
	}
}

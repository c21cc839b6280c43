package qemutests

import (
	"strings"
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

# Exits by itself, nothing left behind: each restart reuses its cgroup
# (the same directory inode), with its limit, and no run is taken for
# an OOM kill.
[service.again]
exec = ["/bin/sh", "-c", "echo RUN $(ls -id /sys/fs/cgroup/services/again | awk '{print $1}') $(cat /sys/fs/cgroup/services/again/memory.max); sleep 0.2; exit 3"]

[service.again.limits]
memory = "64M"
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
	first := vm.Expect(`\[again\] RUN \d+ 67108864$`, 0, 60*time.Second)
	ino := strings.Fields(vm.line(first))[2]
	for i, n := first, 0; n < 2; n++ {
		i = vm.Expect(`\[again\] RUN `, i+1, 60*time.Second)
		if l := vm.line(i); !strings.HasSuffix(l, " "+ino+" 67108864") {
			t.Errorf("a restart got another cgroup or lost its limit: %q (first run: cgroup inode %s)", l, ino)
		}
	}
	if vm.sees(`service:again .*out of memory`, 0) {
		t.Error("again's exit taken for an OOM kill")
	}
	vm.Type("unit status\n")
	vm.Expect(`web\s+running\s+\d+`, at, 30*time.Second)
	vm.Expect(`syslogd\s+running\s+\d+`, at, 30*time.Second)
	vm.Type("unit poweroff\n")
	if err := vm.Wait(60 * time.Second); err != nil {
		t.Fatalf("no power off: %v", err)
	}
}

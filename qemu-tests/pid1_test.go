package qemutests

import (
	"fmt"
	"testing"
	"time"
)

// pid1Probe checks PID 1's duties from inside the guest: the API mounts,
// lo, the modules from [system], the kernel's link protections, and that
// orphans are reaped; then it asks
// for a power action with a signal, as an operator or ACPI would.
const pid1Probe = `
[service.probe]
requires = ["service:web"]
restart  = "never"
exec = ["/bin/sh", "-c", """
for m in /proc /sys /dev /dev/pts /dev/shm /run /tmp /sys/fs/cgroup; do
  grep -q " $m " /proc/mounts && echo "MOUNTED $m"
done
grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts && echo CGROUP2
ip link show lo | grep -q ',UP' && echo LO-UP
ip addr show lo | grep -q '127.0.0.1/8' && echo LO-ADDR
test -d /sys/module/virtio_net && echo MODULE-virtio_net
echo "PROTECTED=$(cat /proc/sys/fs/protected_hardlinks /proc/sys/fs/protected_symlinks /proc/sys/fs/protected_fifos /proc/sys/fs/protected_regular | tr -d '\n')"
i=0; while [ $i -lt 300 ]; do sh -c 'usleep 200000 &'; i=$((i+1)); done
echo ORPHANS-MADE
sleep 2
z=$(cat /proc/[0-9]*/stat 2>/dev/null | awk '$3 == "Z"' | wc -l)
echo "ZOMBIES=$z"
kill -%s 1
"""]
`

func bootAndSignal(t *testing.T, signal string) *VM {
	t.Helper()
	dir := buildImage(t, exampleWith(t, fmt.Sprintf(pid1Probe, signal)))
	vm := boot(t, dir)
	vm.Expect(`^unit: PID 1, started`, 0, 60*time.Second)
	for _, m := range []string{"/proc", "/sys", "/dev", "/dev/pts", "/dev/shm", "/run", "/tmp", "/sys/fs/cgroup"} {
		vm.Expect(`\[probe\] MOUNTED `+m+`$`, 0, 60*time.Second)
	}
	for _, want := range []string{"CGROUP2", "LO-UP", "LO-ADDR", "MODULE-virtio_net", "PROTECTED=1111", "ORPHANS-MADE", "ZOMBIES=0"} {
		vm.Expect(`\[probe\] `+want+`$`, 0, 60*time.Second)
	}
	return vm
}

// SIGUSR2 to PID 1 powers off after stopping services; qemu exits 0.
func TestPID1SignalPowerOff(t *testing.T) {
	vm := bootAndSignal(t, "USR2")
	stopped := vm.Expect(`unit: service:web stopped`, 0, 60*time.Second)
	off := vm.Expect(`^unit: power off$`, stopped, 60*time.Second)
	if err := vm.Wait(60 * time.Second); err != nil {
		t.Fatalf("qemu after power off (line %d): %v", off, err)
	}
}

// SIGTERM to PID 1 reboots (qemu runs with -no-reboot, so it exits).
func TestPID1SignalReboot(t *testing.T) {
	vm := bootAndSignal(t, "TERM")
	stopped := vm.Expect(`unit: service:syslogd stopped`, 0, 60*time.Second)
	vm.Expect(`^unit: reboot$`, stopped, 60*time.Second)
	if err := vm.Wait(60 * time.Second); err != nil {
		t.Fatalf("qemu after reboot: %v", err)
	}
}

package qemutests

import (
	"regexp"
	"strconv"
	"testing"
	"time"
)

// superviseSystem runs a fork bomb inside a pids-limited service next to a
// web server, and a probe that checks from inside the guest: the bomb stays
// in its cgroup's limit while web keeps answering, an orphan storm leaves no
// zombie, status reports cgroup memory, and PID 1 pets the watchdog
// (softdog: Debian's cloud kernel has no i6300esb driver).
const superviseSystem = `
[system]
hostname = "sup"
modules  = ["softdog"]

[service.web]
exec  = ["httpd", "-f", "-p", "80", "-h", "/srv/www"]
ready = "tcp:80"

[file."/srv/www/index.html"]
content = "alive\n"

[service.bomb]
requires = ["service:web"]
exec = ["/bin/sh", "-c", "( b() { b & b; }; b ) 2>/dev/null; exec sleep 1000"]
[service.bomb.limits]
pids       = 24
memory     = "32M"
cpu_weight = 50

[service.probe]
requires = ["service:web"]  # not bomb: stopping bomb would stop the probe first
restart  = "never"
exec = ["/bin/sh", "-c", """
cg=/sys/fs/cgroup/services/bomb
i=0; while [ "$(cat $cg/pids.events | awk '{print $2}')" = 0 ] && [ $i -lt 100 ]; do usleep 50000; i=$((i+1)); done
echo "LIMITS memory.max=$(cat $cg/memory.max) cpu.weight=$(cat $cg/cpu.weight)"
echo "BOMB pids.current=$(cat $cg/pids.current) pids.max=$(cat $cg/pids.max) refused=$(cat $cg/pids.events | awk '{print $2}')"
ok=0; i=0; while [ $i -lt 10 ]; do wget -q -O - http://127.0.0.1/ | grep -q alive && ok=$((ok+1)); i=$((i+1)); done
echo "WEB-ANSWERS=$ok/10"
unit stop bomb && echo BOMB-STOP-RETURNED
# Everything in the cgroup was SIGKILLed; the kernel takes a moment to finish them.
i=0; while [ "$(cat $cg/pids.current 2>/dev/null || echo 0)" != 0 ] && [ $i -lt 100 ]; do usleep 50000; i=$((i+1)); done
echo "BOMB-STOPPED pids.current=$(cat $cg/pids.current 2>/dev/null || echo gone)"
t0=$(date +%s)
b=0; while [ $b -lt 20 ]; do
  sh -c 'i=0; while [ $i -lt 500 ]; do usleep 300000 & i=$((i+1)); done'
  b=$((b+1))
done
echo "ORPHANS-MADE=10000 in $(( $(date +%s) - t0 ))s"
i=0; while [ $(ls -d /proc/[0-9]* | wc -l) -gt 60 ] && [ $i -lt 200 ]; do usleep 100000; i=$((i+1)); done
z=$(cat /proc/[0-9]*/stat 2>/dev/null | awk '$3 == "Z"' | wc -l)
echo "ZOMBIES=$z"
unit status --json web | grep -o '"memory_bytes": [0-9]*' | sed 's/^/WEB-/'
echo "WATCHDOG state=$(cat /sys/class/watchdog/watchdog0/state) timeout=$(cat /sys/class/watchdog/watchdog0/timeout)"
unit poweroff
"""]
`

func TestSupervisePID1(t *testing.T) {
	dir := buildImage(t, superviseSystem)
	vm := boot(t, dir)
	vm.Expect(`^unit: PID 1, started`, 0, 60*time.Second)
	vm.Expect(`^unit: hardware watchdog "Software Watchdog" armed, timeout 30s`, 0, 60*time.Second)

	vm.Expect(`\[probe\] LIMITS memory.max=33554432 cpu.weight=50$`, 0, 90*time.Second)
	i := vm.Expect(`\[probe\] BOMB pids.current=`, 0, 90*time.Second)
	m := regexp.MustCompile(`pids.current=(\d+) pids.max=(\d+) refused=(\d+)`).FindStringSubmatch(vm.line(i))
	if m == nil {
		t.Fatalf("bomb line %q", vm.line(i))
	}
	t.Logf("%s", vm.line(i))
	cur, _ := strconv.Atoi(m[1])
	refused, _ := strconv.Atoi(m[3])
	if m[2] != "24" || cur > 24 || refused == 0 {
		t.Errorf("fork bomb not held by its pids limit: %s", vm.line(i))
	}
	vm.Expect(`\[probe\] WEB-ANSWERS=10/10$`, i, 60*time.Second)
	vm.Expect(`\[probe\] BOMB-STOPPED pids.current=(0|gone)$`, i, 60*time.Second)
	o := vm.Expect(`\[probe\] ORPHANS-MADE=10000 in \d+s`, i, 120*time.Second)
	t.Logf("%s", vm.line(o))
	vm.Expect(`\[probe\] ZOMBIES=0$`, o, 60*time.Second)
	vm.Expect(`\[probe\] WEB-"memory_bytes": [1-9][0-9]*$`, o, 30*time.Second)
	vm.Expect(`\[probe\] WATCHDOG state=active timeout=30$`, o, 30*time.Second)
	off := vm.Expect(`^unit: power off`, o, 60*time.Second)
	if err := vm.Wait(60 * time.Second); err != nil {
		t.Fatalf("qemu after power off (line %d): %v", off, err)
	}
	t.Logf("boot to power off: %s wall", time.Since(vm.started).Round(time.Millisecond))
}

// line returns console line i.
func (vm *VM) line(i int) string {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.lines[i]
}

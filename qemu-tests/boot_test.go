package qemutests

import (
	"regexp"
	"strconv"
	"testing"
	"time"
)

// probe drives the guest from inside: fetch the page, delete the managed
// file, wait for unit to restore it, then power off through the socket.
const probe = `
[service.probe]
requires = ["service:web"]
restart  = "never"
exec = ["/bin/sh", "-c", """
echo "PID1=$(cat /proc/1/comm) HOST=$(hostname)"
wget -q -O - http://127.0.0.1/ | grep -q 'hello from unit' && echo PROBE-FETCHED
rm /srv/www/index.html && echo PROBE-DELETED
i=0; while [ ! -f /srv/www/index.html ] && [ $i -lt 200 ]; do usleep 25000; i=$((i+1)); done
grep -q 'hello from unit' /srv/www/index.html && echo PROBE-RESTORED
unit status
unit poweroff
"""]
`

func TestBootExample(t *testing.T) {
	dir := buildImage(t, exampleWith(t, probe))
	vm := boot(t, dir)

	vm.Expect(`^unit: PID 1, started`, 0, 60*time.Second)
	vm.Expect(`\[probe\] PID1=init HOST=hello`, 0, 60*time.Second)

	// Dependency order: web starts only after syslogd is ready.
	sysRunning := vm.Expect(`unit: service:syslogd running`, 0, 60*time.Second)
	webStarting := vm.Expect(`unit: service:web starting`, 0, 60*time.Second)
	if webStarting < sysRunning {
		t.Errorf("web started (line %d) before syslogd was running (line %d)", webStarting, sysRunning)
	}
	vm.Expect(`unit: service:web running`, webStarting, 60*time.Second)
	all := vm.Expect(`unit: all \d+ services running ([0-9.]+)s after kernel start`, 0, 60*time.Second)
	if m := regexp.MustCompile(`running ([0-9.]+)s after kernel`).FindStringSubmatch(vm.Console()); m != nil {
		s, _ := strconv.ParseFloat(m[1], 64)
		t.Logf("all services running %.2fs after kernel start (line %d)", s, all)
	}

	vm.Expect(`\[probe\] PROBE-FETCHED`, 0, 60*time.Second)
	vm.Expect(`\[probe\] PROBE-DELETED`, 0, 30*time.Second)
	vm.Expect(`unit: file:/srv/www/index.html (repaired|changed)`, 0, 30*time.Second)
	vm.Expect(`\[probe\] PROBE-RESTORED`, 0, 30*time.Second)

	// Ordered shutdown: dependents stop before what they require, then power off.
	webStopped := vm.Expect(`unit: service:web stopped`, 0, 60*time.Second)
	sysStopping := vm.Expect(`unit: service:syslogd stopping`, 0, 60*time.Second)
	if sysStopping < webStopped {
		t.Errorf("syslogd stopping (line %d) before web stopped (line %d)", sysStopping, webStopped)
	}
	off := vm.Expect(`^unit: power off`, sysStopping, 60*time.Second)
	if err := vm.Wait(60 * time.Second); err != nil {
		t.Fatalf("qemu did not exit cleanly after power off (line %d): %v", off, err)
	}
	t.Logf("boot to power off: %s wall", time.Since(vm.started).Round(time.Millisecond))
}

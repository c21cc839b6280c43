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
echo "PID1-MEM $(awk '/^(Rss|Pss):/ { printf "%s%s kB ", $1, $2 }' /proc/1/smaps_rollup)"
wget -q -O - http://127.0.0.1/ | grep -q 'hello from unit' && echo PROBE-FETCHED
rm /srv/www/index.html && echo PROBE-DELETED
i=0; while [ ! -f /srv/www/index.html ] && [ $i -lt 200 ]; do usleep 25000; i=$((i+1)); done
grep -q 'hello from unit' /srv/www/index.html && echo PROBE-RESTORED
unit status
unit poweroff
"""]
`

// broken exits 1 before it is ready, and is not restarted: the boot's
// summary names it (it once said "all services running").
const broken = `
[service.broken]
exec    = ["/bin/sh", "-c", "exit 1"]
ready   = "tcp:9"
restart = "never"
`

func TestBootExample(t *testing.T) {
	dir := buildImage(t, exampleWith(t, probe+broken))
	vm := boot(t, dir)

	vm.Expect(`^unit: PID 1, started`, 0, 60*time.Second)
	vm.Expect(`\[probe\] PID1=init HOST=hello`, 0, 60*time.Second)
	checkPID1Memory(t, vm.line(vm.Expect(`\[probe\] PID1-MEM `, 0, 60*time.Second)))

	// Dependency order: web starts only after syslogd is ready.
	sysRunning := vm.Expect(`unit: service:syslogd running`, 0, 60*time.Second)
	webStarting := vm.Expect(`unit: service:web starting`, 0, 60*time.Second)
	if webStarting < sysRunning {
		t.Errorf("web started (line %d) before syslogd was running (line %d)", webStarting, sysRunning)
	}
	vm.Expect(`unit: service:web running`, webStarting, 60*time.Second)
	// The summary counts what runs and names what does not, after every
	// service's own line.
	all := vm.Expect(`^unit: \d+ of \d+ services running; `, 0, 60*time.Second)
	if want := regexp.MustCompile(`^unit: 4 of 5 services running; broken exited 1 \(([0-9.]+)s after kernel start\)$`); !want.MatchString(vm.line(all)) {
		t.Errorf("boot summary %q, want one like %q", vm.line(all), want)
	} else {
		s, _ := strconv.ParseFloat(want.FindStringSubmatch(vm.line(all))[1], 64)
		t.Logf("4 of 5 services running %.2fs after kernel start (line %d)", s, all)
	}
	for _, line := range []string{`^unit: service:broken exited \(exit 1\)`, `^unit: service:syslogd running`, `^unit: service:web running`,
		`^unit: service:console running`, `^unit: service:probe running`} {
		if i := vm.Expect(line, 0, 10*time.Second); i > all {
			t.Errorf("%q (line %d) after the boot summary (line %d)", line, i, all)
		}
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

// pid1RSSBudgetKB is what PID 1 may have resident, idle with the
// example's services: the measurement once the builders left its binary
// (RSS 11,956 kB; 16,204 kB with them; nothing shares a static PID 1's
// pages, so PSS is the same) plus 15%. The README states it. A memory
// budget, not a timing: the pages PID 1 touches do not depend on the
// machine's speed. A feature that adds weight shows up here in review.
const pid1RSSBudgetKB = 13_750

// checkPID1Memory reads the probe's line of /proc/1/smaps_rollup
// ("Rss:16204 kB Pss:16200 kB"), reports both and fails over the budget.
func checkPID1Memory(t *testing.T, line string) {
	t.Helper()
	m := regexp.MustCompile(`Rss:(\d+) kB Pss:(\d+) kB`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no Rss and Pss in %q", line)
	}
	rss, _ := strconv.Atoi(m[1])
	pss, _ := strconv.Atoi(m[2])
	t.Logf("PID 1 idle with the example's services: RSS %d kB, PSS %d kB (budget: RSS %d kB)", rss, pss, pid1RSSBudgetKB)
	if rss > pid1RSSBudgetKB {
		t.Errorf("PID 1's RSS is %d kB, over the budget of %d kB (pid1RSSBudgetKB)", rss, pid1RSSBudgetKB)
	}
}

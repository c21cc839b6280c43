package qemutests

import (
	"regexp"
	"testing"
	"time"
)

// unitKeysSystem exercises the keys from unit files where they depend on
// cgroup v2 (PID 1 mode): control commands in the service's cgroup, the
// forking pid check by cgroup membership, the three kill modes, the wait
// for the cgroup to empty and a fresh cgroup after cgroup.kill.
//
// km.sh is a service's main process with two others in its cgroup: a
// stopped child in its process group (a signal sent to it stays pending,
// so the main process's TERM trap can tell whether the stop signal
// reached the group) and a daemon that left with setsid and ignores TERM
// (only cgroup.kill ends it).
const unitKeysSystem = `
[system]
hostname = "keys"
console  = "shell"

[file."/etc/t/lib.sh"]
content = '''
alive() { s=$(awk '{print $3}' /proc/$1/stat 2>/dev/null); case "$s" in ""|Z) echo dead;; *) echo "$s";; esac; }
states() { echo "main=$(alive $(cat /run/$1.main)) child=$(alive $(cat /run/$1.child)) esc=$(alive $(cat /run/$1.esc))"; }
'''

[file."/etc/t/km.sh"]
content = '''
. /etc/t/lib.sh
n=$1
trap '' HUP # inherited: the orphaned child survives the kernel's SIGHUP
sleep 1000 & c=$!
kill -STOP $c
setsid sh -c 'trap "" TERM; exec sleep 1000' & e=$!
onterm() { echo "TRAP $n child=$(alive $c) pending=$(awk '/^ShdPnd/{print $2}' /proc/$c/status 2>/dev/null)"; exit 0; }
trap onterm TERM
echo $$ > /run/$n.main; echo $c > /run/$n.child; echo $e > /run/$n.esc
ls -id /sys/fs/cgroup/services/$n | awk '{print $1}' > /run/$n.cgid
echo ok > /run/$n.ready
while :; do sleep 1; done
'''

[file."/etc/t/stoppost.sh"]
content = '''
. /etc/t/lib.sh
ino=$(ls -id /sys/fs/cgroup/services/$1 | awk '{print $1}')
[ "$ino" = "$(cat /run/$1.cgid)" ] && cg=reused || cg=fresh
echo "STOPPOST $(cat /proc/self/cgroup) $cg $(states $1)"
'''

[file."/etc/t/probe.sh"]
content = '''
. /etc/t/lib.sh
d=$(cat /run/dd.pid)
set -- $(awk '{print $4, $6}' /proc/$d/stat)
echo "DD status-pid=$(unit status --json dd | grep -o '"pid": [0-9]*' | grep -o '[0-9]*$') file=$d ppid=$1 sid=$2 parent=$(alive $1)"
unit stop dd
echo "DD-STOPPED daemon=$(alive $d) parent=$(alive $1)"
for n in kmix kproc phases; do
  echo "BEFORE $n $(states $n)"
  unit stop $n
  echo "AFTER $n $(states $n)"
done
unit start phases
echo PROBE-DONE
'''

[service.phases]
exec           = ["/bin/sh", "/etc/t/km.sh", "phases"]
ready          = "exec:test -e /run/phases.ready"
exec_pre       = [["/bin/sh", "-c", "echo PRE $(cat /proc/self/cgroup)"]]
exec_post      = [["/bin/sh", "-c", "echo POST $(cat /proc/self/cgroup)"]]
exec_stop_post = [["/bin/sh", "/etc/t/stoppost.sh", "phases"]]

[service.kmix]
exec      = ["/bin/sh", "/etc/t/km.sh", "kmix"]
ready     = "exec:test -e /run/kmix.ready"
kill_mode = "mixed"

[service.kproc]
exec      = ["/bin/sh", "/etc/t/km.sh", "kproc"]
ready     = "exec:test -e /run/kproc.ready"
kill_mode = "process"

# Double fork with setsid: the daemon's parent stays, leads a session of
# its own, and is not unit; only the cgroup says the daemon is dd's.
[service.dd]
exec     = ["/bin/sh", "-c", "setsid sh -c 'sleep 1000 & echo $! > /run/dd.pid; wait' & exit 0"]
ready    = "forking"
pid_file = "/run/dd.pid"

[service.victim]
exec  = ["/bin/sh", "-c", "echo $$ > /run/victim.pid; exec sleep 1000"]
ready = "exec:test -s /run/victim.pid"

# Its pid file names victim's process, outside stray's cgroup.
[service.stray]
requires = ["service:victim"]
exec     = ["/bin/cp", "/run/victim.pid", "/run/stray.pid"]
ready    = "forking"
pid_file = "/run/stray.pid"
restart  = "never"

[service.probe]
enabled = false
restart = "never"
exec    = ["/bin/sh", "/etc/t/probe.sh"]
`

// TestUnitKeysInCgroups boots once and checks, from the console, what the
// host tests cannot show on a cgroup v1 host.
func TestUnitKeysInCgroups(t *testing.T) {
	dir := buildImage(t, unitKeysSystem)
	vm := boot(t, dir)
	start := vm.Expect(`^unit: PID 1, started`, 0, 60*time.Second)
	for _, n := range []string{"phases", "kmix", "kproc", "dd", "victim"} {
		vm.Expect(`^unit: service:`+n+` running`, start, 90*time.Second)
	}

	// Control commands run in the service's cgroup.
	vm.Expect(`\[phases\] PRE 0::/services/phases$`, start, 10*time.Second)
	vm.Expect(`\[phases\] POST 0::/services/phases$`, start, 10*time.Second)

	// A pid file naming a process outside the cgroup is refused; that
	// process is left alone.
	i := vm.Expect(`^unit: service:stray \w+ \(pid file /run/stray.pid names pid \d+: not in the service's cgroup /sys/fs/cgroup/services/stray\)$`, start, 60*time.Second)

	vm.Type("unit start probe\n")
	done := vm.Expect(`\[probe\] PROBE-DONE$`, i, 3*time.Minute)
	vm.Expect(`^unit: service:phases running`, done-1, 60*time.Second) // started again
	vm.Type("unit status\n")
	vm.Expect(`victim\s+running\s+\d+`, done, 30*time.Second)

	// The double-forked daemon is the main process: its parent (not unit)
	// leads another session, so only its cgroup showed it is dd's.
	i = vm.Expect(`\[probe\] DD `, i, time.Second)
	m := regexp.MustCompile(`status-pid=(\d+) file=(\d+) ppid=(\d+) sid=(\d+) parent=S$`).FindStringSubmatch(vm.line(i))
	if m == nil || m[1] != m[2] || m[3] != m[4] || m[3] == "1" {
		t.Errorf("forking daemon: %q (want status-pid = file, ppid = sid, not 1, parent sleeping)", vm.line(i))
	}
	vm.inOrder(i, []string{
		`\[probe\] DD-STOPPED daemon=dead parent=dead$`,

		// mixed: stop_signal to the main process only (the stopped child
		// has nothing pending), then SIGKILL to the rest of the cgroup.
		`\[probe\] BEFORE kmix main=S child=T esc=S$`,
		`\[kmix\] TRAP kmix child=T pending=0000000000000000$`,
		`\[probe\] AFTER kmix main=dead child=dead esc=dead$`,

		// process: only the main process gets stop_signal; the rest stays
		// (the child, once orphaned, gets the kernel's SIGHUP and SIGCONT
		// for a stopped orphaned process group: it ignores SIGHUP).
		`\[probe\] BEFORE kproc main=S child=T esc=S$`,
		`\[kproc\] TRAP kproc child=T pending=0000000000000000$`,
		`\[probe\] AFTER kproc main=dead child=[RS] esc=S$`,

		// control-group: the group gets stop_signal, cgroup.kill the
		// escaped daemon; exec_stop_post waits for the cgroup to empty and
		// runs in a fresh one (on kernels with the cgroup kill_seq, a
		// process cloned into a killed cgroup is SIGKILLed), and so does
		// the next start.
		`\[probe\] BEFORE phases main=S child=T esc=S$`,
		`\[phases\] STOPPOST 0::/services/phases fresh main=dead child=dead esc=dead$`,
		`\[probe\] AFTER phases main=dead child=dead esc=dead$`,
		`\[phases\] POST 0::/services/phases$`,
	})

	vm.Type("unit poweroff\n")
	if err := vm.Wait(60 * time.Second); err != nil {
		t.Fatalf("no power off: %v", err)
	}
	if vm.sees(`exec_stop_post failed|cgroup did not empty|cgroup still in use`, 0) {
		t.Error("a warning about exec_stop_post or a cgroup")
	}
	t.Logf("boot to power off: %s wall", time.Since(vm.started).Round(time.Millisecond))
}

// inOrder checks that lines matching patterns follow each other from line
// from on (the run is over: nothing more is awaited), reporting every
// pattern that is missing.
func (vm *VM) inOrder(from int, patterns []string) {
	vm.t.Helper()
	vm.mu.Lock()
	lines := vm.lines
	vm.mu.Unlock()
	for _, p := range patterns {
		rx := regexp.MustCompile(p)
		found := false
		for i := from; i < len(lines); i++ {
			if rx.MatchString(lines[i]) {
				from, found = i+1, true
				break
			}
		}
		if !found {
			vm.t.Errorf("console did not show %q after line %d", p, from)
		}
	}
}

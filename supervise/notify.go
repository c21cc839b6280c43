package supervise

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/unit-os/unit/event"
)

// notifyMsg is one sd_notify datagram: newline-separated KEY=VALUE pairs.
type notifyMsg struct {
	ready, stopping, watchdog, trigger bool
	status                             *string
	mainPID                            int
}

func parseNotify(b []byte) notifyMsg {
	var m notifyMsg
	for _, line := range strings.Split(string(b), "\n") {
		k, val, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch k {
		case "READY":
			m.ready = val == "1"
		case "STOPPING":
			m.stopping = val == "1"
		case "STATUS":
			m.status = &val
		case "MAINPID":
			if n, err := strconv.Atoi(val); err == nil && n > 1 {
				m.mainPID = n
			}
		case "WATCHDOG":
			m.watchdog = val == "1"
			m.trigger = val == "trigger"
		}
	}
	return m
}

// readNotify passes every datagram on conn to the loop until conn is closed
// (by the service's probeStop, when it exits or is stopped).
func (s *Supervisor) readNotify(conn *net.UnixConn, v *service, gen int) {
	buf := make([]byte, 4096)
	for {
		n, _, err := conn.ReadFromUnix(buf)
		if err != nil {
			return
		}
		m := parseNotify(buf[:n])
		s.post(func() { s.notified(v, gen, m) })
	}
}

// notified applies one sd_notify message (on the loop).
func (s *Supervisor) notified(v *service, gen int, m notifyMsg) {
	if gen != v.gen || !v.active() {
		return
	}
	if m.mainPID != 0 {
		s.adoptMain(v, gen, m.mainPID)
	}
	if m.status != nil && *m.status != v.notifyText {
		v.notifyText = *m.status
		s.emit(event.Event{Resource: "service:" + v.name, State: v.state, Message: "status: " + v.notifyText,
			Fields: event.Fields{"status": v.notifyText}})
	}
	if m.ready {
		s.becameReady(v, gen)
	}
	if m.watchdog && v.state == StateRunning {
		s.armWatchdog(v)
	}
	if m.trigger {
		s.watchdogExpired(v, "service triggered its watchdog (WATCHDOG=trigger)")
	}
	if m.stopping && v.state != StateStopping {
		s.setState(v, v.state, "service is stopping (STOPPING=1)", nil)
	}
}

// armWatchdog (re)starts the watchdog of a running service.
func (s *Supervisor) armWatchdog(v *service) {
	d := v.cfg.Watchdog.Duration
	if d == 0 {
		return
	}
	gen := v.gen
	s.armSlot(&v.watchdog, d, func() {
		if v.gen == gen && v.state == StateRunning {
			s.watchdogExpired(v, fmt.Sprintf("watchdog: no WATCHDOG=1 within %s", d))
		}
	})
}

// watchdogExpired kills a hung service; its exit is then handled like a
// crash (restarted by policy, counted, backed off).
func (s *Supervisor) watchdogExpired(v *service, why string) {
	s.log.Warn("service watchdog; killing", "name", v.name, "why", why)
	s.emit(event.Event{Resource: "service:" + v.name, State: "watchdog", Message: why})
	v.killedFor = why
	s.kill(v)
}

// adoptMain makes pid the service's main process (sd_notify MAINPID=, for
// daemons that fork): the exit of the process we started no longer ends the
// service, the new one's does. The pid must belong to the service.
func (s *Supervisor) adoptMain(v *service, gen int, pid int) {
	if pid == v.pid {
		return
	}
	if !s.owns(v, pid) {
		s.log.Warn("sd_notify MAINPID of a process outside the service; ignored", "name", v.name, "pid", pid)
		return
	}
	alive := s.reaper.Adopt(pid, func(e Exit) { s.post(func() { s.exited(v, gen, e) }) })
	old := v.pid
	v.pid = pid
	s.emit(event.Event{Resource: "service:" + v.name, State: v.state, Message: fmt.Sprintf("main pid %d (was %d)", pid, old),
		Fields: event.Fields{"pid": pid}})
	if !alive {
		s.exited(v, gen, Exit{PID: pid, Lost: true})
	}
}

// owns reports whether pid runs in v's cgroup, or else in its process group.
func (s *Supervisor) owns(v *service, pid int) bool {
	if v.cgroup != "" {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		// The cgroup v2 line is "0::/services/NAME" (hybrid hosts list v1 ones too).
		return err == nil && cgroupHas(b, v.cgroup)
	}
	pg, err := syscall.Getpgid(pid)
	return err == nil && pg == v.pgid
}

// notifyEnv is what systemd sets for a notify service.
func notifyEnv(v *service, socket string) []string {
	env := []string{"NOTIFY_SOCKET=" + socket}
	if d := v.cfg.Watchdog.Duration; d > 0 {
		env = append(env, "WATCHDOG_USEC="+strconv.FormatInt(int64(d/time.Microsecond), 10))
	}
	return env
}

// cgroupMount is the cgroup2 mount point a service cgroup lives under
// ("/sys/fs/cgroup", or a hybrid host's "/sys/fs/cgroup/unified").
func cgroupMount(dir string) string {
	for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "cgroup.controllers")); err == nil {
			if _, err := os.Stat(filepath.Join(filepath.Dir(d), "cgroup.controllers")); err != nil {
				return d
			}
		}
	}
	return "/sys/fs/cgroup"
}

package supervise

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// OwnerOf is the service pid belongs to: the one whose cgroup holds it
// (PID 1), or on a host without cgroups the one whose process group it is
// in. /dev/log uses it to put a syslog line in the sender's log; ok is
// false for a process of no service (or one already gone).
func (s *Supervisor) OwnerOf(ctx context.Context, pid int) (name string, ok bool) {
	if pid <= 0 {
		return "", false
	}
	// Read outside the loop: /proc can be slow, the loop must not wait.
	cg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	pgid, perr := syscall.Getpgid(pid)
	err := s.call(ctx, func() error {
		for _, v := range s.services {
			if v.cgroup != "" {
				if cgroupHas(cg, v.cgroup) {
					name, ok = v.name, true
					return nil
				}
				continue
			}
			if perr == nil && v.pid > 0 && pgid == v.pgid {
				name, ok = v.name, true
				return nil
			}
		}
		return nil
	})
	return name, ok && err == nil
}

// cgroupHas says whether a /proc/PID/cgroup text puts the process in dir
// (the v2 line "0::/services/NAME").
func cgroupHas(procCgroup []byte, dir string) bool {
	want := "0::" + strings.TrimPrefix(dir, cgroupMount(dir))
	for _, line := range strings.Split(string(procCgroup), "\n") {
		if line == want {
			return true
		}
	}
	return false
}

// AddLine puts a line into name's log as if the service had written it:
// the ring (`unit logs`), its log files and the console.
func (s *Supervisor) AddLine(name, text string) {
	l := LogLine{Time: time.Now(), Service: name, Text: text}
	s.ringFor(name).add(l)
	s.echo(l)
}

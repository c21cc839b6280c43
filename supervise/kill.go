package supervise

import (
	"path/filepath"
	"syscall"
)

// signal sends sig to the service's process group: the daemon and whatever
// it forked without leaving the group.
func (s *Supervisor) signal(v *service, sig syscall.Signal) {
	if v.pid <= 0 {
		return
	}
	if err := syscall.Kill(-v.pgid, sig); err != nil || v.pid != v.pgid {
		_ = syscall.Kill(v.pid, sig)
	}
}

// kill SIGKILLs everything the service owns: its cgroup when it has one
// (this catches double-forked daemons), else its process group.
func (s *Supervisor) kill(v *service) {
	if v.cgroup != "" {
		if err := writeControl(filepath.Join(v.cgroup, "cgroup.kill"), "1"); err == nil {
			return
		}
	}
	s.signal(v, syscall.SIGKILL)
}

// killLeftovers removes what a service left behind once its main process
// exited, so a restart never finds a stale child holding its port.
func (s *Supervisor) killLeftovers(v *service) {
	if v.cgroup != "" {
		if populated(v.cgroup) {
			_ = writeControl(filepath.Join(v.cgroup, "cgroup.kill"), "1")
		}
		return
	}
	if v.pgid > 0 {
		_ = syscall.Kill(-v.pgid, syscall.SIGKILL)
	}
}

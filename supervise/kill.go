package supervise

import (
	"path/filepath"
	"syscall"

	"github.com/unit-os/unit/config"
)

// signal sends the stop signal as kill_mode says: with control-group (the
// default) to the service's process group, the daemon and whatever it
// forked without leaving the group; with mixed and process to the main
// process only.
func (s *Supervisor) signal(v *service, sig syscall.Signal) {
	if v.pid <= 0 {
		return
	}
	if m := v.cfg.KillMode; m == config.KillMixed || m == config.KillProcess {
		_ = syscall.Kill(v.pid, sig)
		return
	}
	s.signalGroup(v, sig)
}

func (s *Supervisor) signalGroup(v *service, sig syscall.Signal) {
	if err := syscall.Kill(-v.pgid, sig); err != nil || v.pid != v.pgid {
		_ = syscall.Kill(v.pid, sig)
	}
}

// kill SIGKILLs everything the service owns: its cgroup when it has one
// (this catches double-forked daemons), else its process group; with
// kill_mode = "process" only the main process.
func (s *Supervisor) kill(v *service) {
	if v.cfg.KillMode == config.KillProcess {
		if v.pid > 0 {
			_ = syscall.Kill(v.pid, syscall.SIGKILL)
		}
		return
	}
	if v.cgroup != "" {
		v.cgroupKilled = true
		if err := writeControl(filepath.Join(v.cgroup, "cgroup.kill"), "1"); err == nil {
			return
		}
	}
	if v.pid > 0 {
		s.signalGroup(v, syscall.SIGKILL)
	}
}

// killLeftovers removes what a service left behind once its main process
// exited, so a restart never finds a stale child holding its port; with
// kill_mode = "process" they are left running, as systemd leaves them.
// populated is whether its cgroup (if it has one) still has processes.
func (s *Supervisor) killLeftovers(v *service, populated bool) {
	if v.cfg.KillMode == config.KillProcess {
		return
	}
	if v.cgroup != "" {
		if populated {
			v.cgroupKilled = true
			_ = writeControl(filepath.Join(v.cgroup, "cgroup.kill"), "1")
		}
		return
	}
	if v.pgid > 0 {
		_ = syscall.Kill(-v.pgid, syscall.SIGKILL)
	}
}

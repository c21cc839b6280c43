package supervise

import (
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/event"
)

// outputGrace is how long output may still arrive after the main process
// exited. Something that escaped the process group (setsid) can hold the
// pipe open forever; past this the pipe is closed.
const outputGrace = 2 * time.Second

// arm replaces v's timer. f runs on the loop, unless the timer was disarmed
// or replaced in the meantime (even if it had already fired).
func (s *Supervisor) arm(v *service, d time.Duration, f func()) {
	s.disarm(v)
	seq := v.timerSeq
	v.timer = time.AfterFunc(d, func() {
		s.post(func() {
			if v.timerSeq == seq {
				v.timer = nil
				f()
			}
		})
	})
}

func (s *Supervisor) disarm(v *service) {
	v.timerSeq++
	if v.timer != nil {
		v.timer.Stop()
		v.timer = nil
	}
}

// stopProbe ends whatever watches the current run: readiness, sd_notify,
// watchdog, health.
func (s *Supervisor) stopProbe(v *service) {
	s.disarmSlot(&v.watchdog)
	s.stopHealth(v)
	if v.control != nil {
		v.control()
		v.control = nil
	}
	v.postRunning = false
	if v.probeStop != nil {
		v.probeStop()
		v.probeStop = nil
	}
}

// exited handles the exit of a service's main process (on the loop).
func (s *Supervisor) exited(v *service, gen int, e Exit) {
	if gen != v.gen || !v.active() || v.draining {
		return
	}
	if e.PID == v.pid && !v.forked && v.cfg.Ready == "forking" && v.state == StateStarting && e.Success() {
		s.forkParentExited(v, gen, e)
		return
	}
	if e.PID != v.pid {
		// The process we started exited after handing over to its MAINPID.
		s.log.Info("service's first process exited; main pid continues", "name", v.name, "exit", e.String(), "main", v.pid)
		return
	}
	s.mainGone(v, gen, e)
}

// mainGone settles the end of the main process: leftovers killed (as
// kill_mode says), the cgroup drained, exec_stop_post, then what follows.
func (s *Supervisor) mainGone(v *service, gen int, e Exit) {
	v.forkExit = nil
	s.stopProbe(v)
	s.disarm(v)
	// One read of cgroup.events, before memory.events: once it is empty
	// no process is left to be OOM-killed, so the count noteOOM reads is final.
	populated := s.cgroupPopulated(v)
	s.noteOOM(v)
	s.killLeftovers(v, populated)
	if v.out != nil {
		// pump still drains what is buffered; this only bounds the wait for EOF.
		_ = v.out.SetReadDeadline(time.Now().Add(outputGrace))
		v.out = nil
	}
	finish := func() {
		if v.remains(e.Success() && v.startFailure == "") {
			s.settleExit(v, e) // exec_stop_post and runtime dirs wait for its stop
			return
		}
		s.afterStop(v, func() { s.settleExit(v, e) })
	}
	if v.cfg.KillMode != config.KillProcess && populated {
		// What the service left behind is dying; until its cgroup is empty
		// the service stays active, so neither a restart nor a dependent's
		// stop can find a stale process holding a port or a file.
		v.draining = true
		s.awaitEmpty(v, gen, func() {
			v.draining = false
			finish()
		})
		return
	}
	finish()
}

// settleExit decides what follows an exit: stopped, exited, a restart
// (after backoff) or failed.
func (s *Supervisor) settleExit(v *service, e Exit) {
	why, ok := e.String(), e.Success()
	if v.startFailure != "" {
		why, ok = v.startFailure, false
		v.startFailure = ""
	}
	if v.killedFor != "" {
		why = v.killedFor + ": " + why
		v.killedFor = ""
	}
	wasStopping := v.state == StateStopping
	ranFor := time.Since(v.startedAt)
	v.pid = 0
	remain := v.remains(ok)
	v.lastExit, v.exitOK, v.exitAt = why, ok, time.Now()
	s.touchAround(v) // blockedBy of its dependents reads lastExit and exitOK
	fields := event.Fields{"exit": e.String(), "ran_ms": ranFor.Milliseconds()}

	switch {
	case remain:
		v.remained, v.readyAt = true, time.Now()
		s.setState(v, StateRunning, why, fields)
	case wasStopping || !v.wanted:
		s.setState(v, StateStopped, why, fields)
	case v.cfg.Restart == config.RestartNever,
		v.cfg.Restart == config.RestartOnFailure && ok:
		s.setState(v, StateExited, why, fields)
	default:
		delay, giveUp := s.backoff.next(v, ranFor)
		if giveUp {
			v.failedHard, v.wanted = true, false
			s.setState(v, StateFailed, "crash loop: "+why, fields)
			break
		}
		v.total++
		fields["delay_ms"] = delay.Milliseconds()
		fields["restarts"] = v.total
		if delay == 0 {
			// Nothing to wait for: reconcile spawns it below, and the
			// backoff state is reported after the new process's exec
			// (setState), so no log write or event is in the way.
			v.state = StateStopped
			v.note = &stateNote{StateBackoff, why + ", restarting now", fields}
			break
		}
		s.setState(v, StateBackoff, why+", restart in "+delay.String(), fields)
		s.arm(v, delay, func() {
			if v.state == StateBackoff {
				v.state = StateStopped
				s.reconcileFor(v)
			}
		})
	}
	s.reconcile()
}

// beginStop sends the stop signal and arms the kill timer.
func (s *Supervisor) beginStop(v *service) {
	if v.state == StateStopping {
		return
	}
	switch {
	case v.forkExit != nil:
		// Waiting for the pid file: no process of ours will exit.
		s.forkFailed(v, *v.forkExit, errStopRequested)
		return
	case v.remained:
		v.remained = false
		s.setState(v, StateStopping, "", nil)
		s.afterStop(v, func() { s.setState(v, StateStopped, v.lastExit, nil) })
		return
	case v.pid == 0:
		if v.control != nil { // exec_pre: its end settles the start
			s.stopProbe(v)
			s.setState(v, StateStopping, "stopped during exec_pre", nil)
		}
		return
	}
	s.stopProbe(v)
	sig := v.cfg.Signal()
	s.setState(v, StateStopping, "sent "+unix.SignalName(sig), nil)
	s.signal(v, sig)
	if sig != syscall.SIGSTOP {
		s.signal(v, syscall.SIGCONT) // a stopped (SIGSTOP) process handles sig only once continued
	}
	timeout := stopTimeout(v.cfg)
	s.arm(v, timeout, func() {
		if v.state == StateStopping {
			s.log.Warn("service did not stop in time; killing", "name", v.name, "timeout", timeout)
			v.killedFor = "did not stop within " + timeout.String()
			s.kill(v)
		}
	})
}

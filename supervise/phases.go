package supervise

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/unit-os/unit/config"
)

// A start goes through systemd's phases: exec_pre (before the main
// process), exec_post (once it is ready, before dependents see it ready),
// and exec_stop_post (once its processes are gone, also after a failed
// start). The commands run off the loop; their end comes back as a message.

// readyTimeout bounds a start: ready_timeout, 90 s by default, none for a
// oneshot unless set (systemd's TimeoutStartSec=, which covers
// ExecStartPre= and ExecStartPost= too).
func readyTimeout(cfg *config.Service) time.Duration {
	switch {
	case cfg.ReadyTimeout.Duration > 0:
		return cfg.ReadyTimeout.Duration
	case cfg.Oneshot:
		return 0
	}
	return 90 * time.Second
}

func stopTimeout(cfg *config.Service) time.Duration {
	if d := cfg.StopTimeout.Duration; d > 0 {
		return d
	}
	return 10 * time.Second
}

var errStopRequested = errors.New("stop requested")

// startControl runs a phase's commands off the loop, then then(err) on the
// loop (unless the service was spawned again meanwhile). A cancellable
// phase is ended by stopProbe (a stop, or the main process's exit).
func (s *Supervisor) startControl(v *service, phase string, cmds [][]string, timeout time.Duration, cancellable bool, then func(error)) {
	p, err := s.prepareControl(v, phase, cmds)
	if err != nil {
		then(fmt.Errorf("%s: %w", phase, err))
		return
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	if cancellable {
		v.control = func() { cancel(errStopRequested) }
	}
	gen, name := v.gen, v.name
	go func() {
		defer func() {
			if p := recover(); p != nil {
				s.recovered(p)
			}
		}()
		rctx := ctx
		if timeout > 0 {
			var stop context.CancelFunc
			rctx, stop = context.WithTimeoutCause(ctx, timeout, fmt.Errorf("not done within %s", timeout))
			defer stop()
		}
		err := s.runPhase(rctx, name, p)
		cancel(nil)
		s.post(func() {
			if v.gen == gen {
				then(err)
				s.reconcileFor(v)
			}
		})
	}()
}

// runPre runs exec_pre, then the main process. A failing command (without
// "-") fails the start like a crashed start: backoff, restart policy.
func (s *Supervisor) runPre(v *service) {
	v.startedAt = time.Now()
	s.setState(v, StateStarting, "exec_pre", nil)
	s.startControl(v, "exec_pre", v.cfg.ExecPre, readyTimeout(v.cfg), true, func(err error) {
		v.control = nil
		switch {
		case err != nil:
			s.startAborted(v, err)
		case !v.wanted:
			s.startAborted(v, errStopRequested)
		default:
			s.launch(v)
		}
	})
}

// runPost runs exec_post once the service is ready; it is marked running
// when they succeeded. A failure kills the service (handled as a crash).
func (s *Supervisor) runPost(v *service) {
	v.postRunning = true
	s.setState(v, StateStarting, "exec_post", nil)
	s.startControl(v, "exec_post", v.cfg.ExecPost, readyTimeout(v.cfg), true, func(err error) {
		if !v.postRunning || v.state != StateStarting {
			return // the service exited or is stopping: stopProbe ended this
		}
		v.postRunning, v.control = false, nil
		if err != nil {
			s.log.Warn("exec_post failed; killing", "name", v.name, "err", err)
			v.killedFor = err.Error()
			s.kill(v)
			return
		}
		v.postDone = true
		s.markReady(v)
	})
}

// startAborted ends a start that never got a main process (exec_pre
// failed or was stopped, exec failed): exec_stop_post, then a backoff,
// or stopped if it is no longer wanted.
func (s *Supervisor) startAborted(v *service, err error) {
	s.afterStop(v, func() {
		v.pid = 0
		if !v.wanted {
			s.setState(v, StateStopped, "", nil)
			return
		}
		s.startFailed(v, err)
	})
}

// afterStop runs exec_stop_post once the service's processes are gone,
// removes its runtime dirs and pid file, then runs then. The service stays active
// (draining) meanwhile, so no restart or dependent overlaps it.
func (s *Supervisor) afterStop(v *service, then func()) {
	cfg := v.cfg
	finish := func() {
		s.removeRuntimeDirs(v, cfg)
		s.removePrivateTmp(v)
		s.removePIDFile(v, cfg)
		then()
	}
	if len(cfg.ExecStopPost) == 0 {
		finish()
		return
	}
	v.pid = 0
	if !v.active() {
		v.state = StateStopping // a failed exec: nothing may spawn it meanwhile
		s.touchAround(v)
	}
	v.draining = true
	s.setState(v, v.state, "exec_stop_post", nil)
	s.startControl(v, "exec_stop_post", cfg.ExecStopPost, stopTimeout(cfg), false, func(err error) {
		if err != nil {
			s.log.Warn("exec_stop_post failed", "name", v.name, "err", err)
			s.logLine(v.name, "unit: "+err.Error())
		}
		v.draining = false
		finish()
	})
}

// remains reports whether a oneshot that exited stays "running"
// (remain_after_exit), which defers exec_stop_post to its stop.
func (v *service) remains(ok bool) bool {
	return v.cfg.Oneshot && v.cfg.RemainAfterExit && ok && v.wanted && v.state != StateStopping
}

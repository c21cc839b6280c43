package supervise

import (
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/event"
)

// spawn starts v (on the loop): its dirs, exec_pre, then its process. A
// failed start counts as an unstable exit, so a missing binary ends in
// "failed", not a hot loop.
func (s *Supervisor) spawn(v *service) {
	v.gen++
	v.remained, v.postDone, v.postRunning, v.forked, v.forkExit, v.startFailure = false, false, false, false, nil, ""
	if err := s.makeDirs(v); err != nil {
		s.startAborted(v, err)
		return
	}
	if len(v.cfg.ExecPre) > 0 {
		s.runPre(v)
		return
	}
	s.launch(v)
}

// launch starts the main process.
func (s *Supervisor) launch(v *service) {
	if err := s.startProcess(v, v.gen); err != nil {
		s.startAborted(v, err)
	}
}

// startFailed schedules the retry of a start that failed, or gives up.
func (s *Supervisor) startFailed(v *service, err error) {
	s.log.Error("start failed", "name", v.name, "err", err)
	v.lastExit, v.exitOK = "start: "+err.Error(), false
	s.touchAround(v)
	delay, giveUp := s.backoff.next(v, 0)
	if giveUp {
		v.failedHard, v.wanted = true, false
		s.setState(v, StateFailed, err.Error(), nil)
		return
	}
	delay = max(delay, s.backoff.Initial)
	s.setState(v, StateBackoff, err.Error()+", retry in "+delay.String(), nil)
	s.arm(v, delay, func() {
		if v.state == StateBackoff {
			v.state = StateStopped
			s.reconcileFor(v)
		}
	})
}

func (s *Supervisor) startProcess(v *service, gen int) error {
	cfg := v.cfg
	if len(cfg.Exec) == 0 || cfg.Exec[0] == "" {
		return fmt.Errorf("exec is empty")
	}
	env, cred, err := s.startEnv(v)
	if err != nil {
		return err
	}
	// exec's prefixes as exec_pre's ("!": as root, dirs still the user's),
	// but "-", which config refuses: the main command's exit counts.
	pre, ok := config.CommandPrefix(cfg.Exec[0])
	if !ok || pre.MayFail {
		return fmt.Errorf("exec: unsupported prefix in %q", cfg.Exec[0])
	}
	var vars map[string]string
	if cfg.Expand && !pre.NoExpand {
		vars = envMap(env)
	}
	prog, argv, err := prefixedArgv(pre, cfg.Exec, cfg.Expand, vars)
	if err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	path, err := v.execPath(prog, env)
	if err != nil {
		return err
	}
	plan, err := s.namespace(v)
	if err != nil {
		return err
	}
	devnull, err := s.devNull()
	if err != nil {
		return err
	}
	rd, wr, err := outputPipe()
	if err != nil {
		return fmt.Errorf("output pipe: %w", err)
	}
	defer unix.Close(wr) // the child has its copy; EOF comes when the child's copies close
	files := []uintptr{devnull, uintptr(wr), uintptr(wr)}
	var tty *os.File
	if cfg.TTY != "" {
		if tty, err = openTTY(cfg.TTY); err != nil {
			rd.Close()
			return err
		}
		defer tty.Close() // the child has its copies
		files = []uintptr{tty.Fd(), tty.Fd(), tty.Fd()}
	}

	rdy, err := s.prepareReady(v, gen, &env, &files)
	if err != nil {
		rd.Close()
		return err
	}
	defer rdy.closeChildEnds()

	sys := &syscall.SysProcAttr{Setpgid: true}
	if tty != nil {
		// A session of its own with the terminal as its controlling tty
		// (job control, ctrl-c); setsid makes it a group leader too.
		sys.Setpgid, sys.Setsid, sys.Setctty, sys.Ctty = false, true, true, 0
	}
	if s.cgroups != "" {
		fd, path, err := s.cgroupFor(v)
		if err != nil {
			rdy.cancel()
			rd.Close()
			return err
		}
		defer fd.Close()
		v.cgroup = path
		v.oomBase, v.oomLast = v.oomLast, -1 // the count at the last exit, if nothing ran there since
		if v.oomBase < 0 {
			v.oomBase = oomKills(path)
		}
		sys.UseCgroupFD = true
		sys.CgroupFD = int(fd.Fd())
	}
	dir := cfg.Dir
	if dir == "" {
		dir = "/"
	}
	attr := &syscall.ProcAttr{Dir: dir, Env: env, Files: files, Sys: sys}
	argv0, err := applyPrefixes(cfg, pre, path, cred, plan, attr)
	if err != nil {
		rdy.cancel()
		rd.Close()
		return err
	}
	pid, err := s.reaper.Start(argv0, argv, attr,
		func(e Exit) { s.post(func() { s.exited(v, gen, e) }) })
	if err != nil {
		rdy.cancel()
		rd.Close()
		return fmt.Errorf("exec %s: %w", path, explainExec(path, err))
	}
	if tty != nil {
		rd.Close() // output is the terminal's, not the log's
	} else {
		v.out = rd
		go pump(v.name, rd, s.ringFor(v.name), s.echo, s.log)
	}

	v.pid, v.pgid = pid, pid
	v.spawnTicks = bootTicks()
	v.notifyText = ""
	v.health.status = ""
	v.startedAt = time.Now()
	v.readyAt = time.Time{}
	v.killedFor = ""
	s.setState(v, StateStarting, "", event.Fields{"pid": pid})
	rdy.start()
	if rdy.immediate {
		// The reconcile pass that spawned it goes on to its dependents.
		s.markReady(v)
		return nil
	}
	timeout := cfg.ReadyTimeout.Duration
	if timeout == 0 && cfg.Oneshot {
		return nil // a oneshot may take as long as it takes, unless told otherwise
	}
	if timeout == 0 {
		timeout = 90 * time.Second
	}
	s.arm(v, timeout, func() {
		if v.state == StateStarting {
			s.readyTimedOut(v, timeout)
		}
	})
	return nil
}

// readyTimedOut kills a service that did not become ready in time.
func (s *Supervisor) readyTimedOut(v *service, timeout time.Duration) {
	why := "not ready within " + timeout.String()
	if v.forkExit != nil {
		// Its first process is gone; no exit will come to settle it.
		s.forkFailed(v, *v.forkExit, fmt.Errorf("%s: no valid pid file %s", why, v.cfg.PIDFile))
		return
	}
	s.log.Warn("service not ready in time; killing", "name", v.name, "timeout", timeout)
	v.killedFor = why
	s.kill(v)
}

// becameReady is posted by a readiness probe.
func (s *Supervisor) becameReady(v *service, gen int) {
	if v.gen != gen || v.state != StateStarting {
		return
	}
	s.markReady(v)
	s.reconcileFor(v)
}

// markReady moves a starting service to running.
func (s *Supervisor) markReady(v *service) {
	if len(v.cfg.ExecPost) > 0 && !v.postDone && !v.cfg.Oneshot {
		if !v.postRunning {
			s.runPost(v)
		}
		return
	}
	s.disarm(v)
	v.readyAt = time.Now()
	s.setState(v, StateRunning, "", event.Fields{"pid": v.pid, "ready_ms": v.readyAt.Sub(v.startedAt).Milliseconds()})
	s.armWatchdog(v)
	s.startHealth(v)
}

// echo sends a line beyond the ring: to the persistent log and the console.
func (s *Supervisor) echo(l LogLine) {
	s.toLogFile(l)
	if s.console != nil {
		fmt.Fprintf(s.console, "[%s] %s\n", l.Service, l.Text)
	}
}

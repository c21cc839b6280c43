package supervise

import (
	"fmt"
	"os"
	"sort"
	"syscall"
	"time"

	"unit/config"
	"unit/event"
)

// spawn starts v's process (on the loop). A failed start counts as an
// unstable exit, so a missing binary ends in "failed", not a hot loop.
func (s *Supervisor) spawn(v *service) {
	v.gen++
	err := s.startProcess(v, v.gen)
	if err == nil {
		return
	}
	s.log.Error("start failed", "name", v.name, "err", err)
	v.lastExit, v.exitOK = "start: "+err.Error(), false
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
			s.reconcile()
		}
	})
}

func (s *Supervisor) startProcess(v *service, gen int) error {
	cfg := v.cfg
	if len(cfg.Exec) == 0 || cfg.Exec[0] == "" {
		return fmt.Errorf("exec is empty")
	}
	env := serviceEnv(cfg)
	path, err := lookPath(cfg.Exec[0], env)
	if err != nil {
		return err
	}
	cred, home, err := credential(cfg)
	if err != nil {
		return err
	}
	if home != "" {
		env = append(env, "HOME="+home)
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer devnull.Close()
	rd, wr, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("output pipe: %w", err)
	}
	defer wr.Close() // the child has its copy; EOF comes when the child's copies close
	files := []uintptr{devnull.Fd(), wr.Fd(), wr.Fd()}

	rdy, err := s.prepareReady(v, gen, &env, &files)
	if err != nil {
		rd.Close()
		return err
	}
	defer rdy.closeChildEnds()

	sys := &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	if s.cgroups != "" {
		fd, path, err := s.cgroupFor(v)
		if err != nil {
			rdy.cancel()
			rd.Close()
			return err
		}
		defer fd.Close()
		v.cgroup = path
		sys.UseCgroupFD = true
		sys.CgroupFD = int(fd.Fd())
	}
	dir := cfg.Dir
	if dir == "" {
		dir = "/"
	}
	pid, err := s.reaper.Start(path, cfg.Exec, &syscall.ProcAttr{Dir: dir, Env: env, Files: files, Sys: sys},
		func(e Exit) { s.post(func() { s.exited(v, gen, e) }) })
	if err != nil {
		rdy.cancel()
		rd.Close()
		return fmt.Errorf("exec %s: %w", path, err)
	}
	v.out = rd
	go pump(v.name, rd, s.ringFor(v.name), s.echo, s.log)

	v.pid = pid
	v.startedAt = time.Now()
	v.readyAt = time.Time{}
	v.killedFor = ""
	s.setState(v, StateStarting, "", event.Fields{"pid": pid})
	rdy.start()
	timeout := cfg.ReadyTimeout.Duration
	if timeout == 0 {
		timeout = 90 * time.Second
	}
	s.arm(v, timeout, func() {
		if v.state == StateStarting {
			s.log.Warn("service not ready in time; killing", "name", v.name, "timeout", timeout)
			v.killedFor = "not ready within " + timeout.String()
			s.kill(v)
		}
	})
	return nil
}

// becameReady is posted by a readiness probe.
func (s *Supervisor) becameReady(v *service, gen int) {
	if v.gen != gen || v.state != StateStarting {
		return
	}
	s.disarm(v)
	v.readyAt = time.Now()
	s.setState(v, StateRunning, "", event.Fields{"pid": v.pid, "ready_ms": v.readyAt.Sub(v.startedAt).Milliseconds()})
	s.reconcile()
}

func (s *Supervisor) echo(l LogLine) {
	if s.console != nil {
		fmt.Fprintf(s.console, "[%s] %s\n", l.Service, l.Text)
	}
}

// serviceEnv is a clean environment: PATH plus what the service sets. A
// PATH in env replaces ours rather than following it (getenv takes the first).
func serviceEnv(cfg *config.Service) []string {
	var env []string
	if _, ok := cfg.Env["PATH"]; !ok {
		env = append(env, "PATH="+defaultPath)
	}
	keys := make([]string, 0, len(cfg.Env))
	for k := range cfg.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+cfg.Env[k])
	}
	return env
}

package supervise

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/unit-os/unit/config"
)

// controlCmd is one exec_pre, exec_post or exec_stop_post command, ready
// to fork (systemd's control processes).
type controlCmd struct {
	label   string // `exec_pre[0] "/usr/bin/check"`, for messages
	path    string
	argv    []string
	attr    *syscall.ProcAttr
	mayFail bool  // "-": its failure is logged, not fatal
	err     error // it could not be prepared (program missing)
}

// controlPhase is the commands of one phase and what they share: the
// output pipe to the service's log, /dev/null, the cgroup.
type controlPhase struct {
	name string
	cmds []controlCmd
	out  *os.File // read end, pumped into the service's log
	// pumped is closed when the pump has put the last line in the log.
	pumped chan struct{}
	files  []*os.File // closed when the phase ends
}

// prepareControl resolves a phase's commands on the loop: the service's
// environment, credentials (none for "+" and "!": root), directory and
// cgroup, the prefixes, and $VAR expansion with expand (none for ":").
func (s *Supervisor) prepareControl(v *service, phase string, cmds [][]string) (*controlPhase, error) {
	cfg := v.cfg
	env, cred, err := s.runEnv(cfg)
	if err != nil {
		return nil, err
	}
	p := &controlPhase{name: phase}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	p.files = append(p.files, devnull)
	rd, wr, err := os.Pipe()
	if err != nil {
		p.close()
		return nil, fmt.Errorf("output pipe: %w", err)
	}
	p.files = append(p.files, wr)
	p.out = rd
	p.pumped = make(chan struct{})
	go func() {
		defer close(p.pumped)
		pump(v.name, rd, s.ringFor(v.name), s.echo, s.log)
	}()
	var cgroupFD *os.File
	if s.cgroups != "" {
		fd, path, err := s.cgroupFor(v)
		if err != nil {
			p.close()
			return nil, err
		}
		p.files = append(p.files, fd)
		cgroupFD, v.cgroup = fd, path
		v.oomLast = -1 // the phase's processes may be OOM-killed there too
	}
	dir := cfg.Dir
	if dir == "" {
		dir = "/"
	}
	plan, err := s.namespace(v)
	if err != nil {
		p.close()
		return nil, err
	}
	vars := envMap(env)
	for i, c := range cmds {
		cmd := controlCmd{label: fmt.Sprintf("%s[%d]", phase, i)}
		p.cmds = append(p.cmds, cmd)
		cc := &p.cmds[len(p.cmds)-1]
		if len(c) == 0 {
			cc.err = errors.New("empty command")
			continue
		}
		pre, ok := config.CommandPrefix(c[0])
		cc.label += fmt.Sprintf(" %q", pre.Prog)
		cc.mayFail = pre.MayFail
		if !ok {
			cc.err = fmt.Errorf("unsupported prefix in %q", c[0])
			continue
		}
		prog, argv, err := prefixedArgv(pre, c, cfg.Expand, vars)
		if err != nil {
			cc.err = err
			continue
		}
		if cc.path, cc.err = lookPath(prog, env); cc.err != nil {
			continue
		}
		sys := &syscall.SysProcAttr{Setpgid: true}
		if cgroupFD != nil {
			sys.UseCgroupFD, sys.CgroupFD = true, int(cgroupFD.Fd())
		}
		attr := &syscall.ProcAttr{Dir: dir, Env: env, Files: []uintptr{devnull.Fd(), wr.Fd(), wr.Fd()}, Sys: sys}
		argv0, err := applyPrefixes(cfg, pre, cc.path, cred, plan, attr)
		if err != nil {
			cc.err = err
			continue
		}
		cc.path, cc.argv, cc.attr = argv0, argv, attr
	}
	return p, nil
}

// close ends the phase: once its commands' copies of the pipe are closed
// too, the pump sees EOF; a background child holding it gets outputGrace.
func (p *controlPhase) close() {
	for _, f := range p.files {
		f.Close()
	}
	p.files = nil
	if p.out != nil {
		_ = p.out.SetReadDeadline(time.Now().Add(outputGrace))
		p.out = nil
	}
}

// runPhase runs the commands in order, off the loop, and stops at the
// first failure of a command without "-". When ctx ends, the running
// command's process group is killed and the cause returned.
func (s *Supervisor) runPhase(ctx context.Context, name string, p *controlPhase) error {
	// The phase is over once its output is in the log (what it said is
	// there when its end is reported); a background child that keeps the
	// pipe open holds this for outputGrace at most.
	defer func() {
		pumped := p.pumped
		p.close()
		if pumped != nil {
			<-pumped
		}
	}()
	for _, c := range p.cmds {
		err := c.err
		if err == nil {
			err = s.runControlCmd(ctx, c)
		}
		if err == nil {
			continue
		}
		if c.mayFail && ctx.Err() == nil {
			s.logLine(name, fmt.Sprintf("unit: %s failed, ignored (\"-\"): %v", c.label, err))
			continue
		}
		return fmt.Errorf("%s: %w", c.label, err)
	}
	return nil
}

func (s *Supervisor) runControlCmd(ctx context.Context, c controlCmd) error {
	done := make(chan Exit, 1)
	pid, err := s.reaper.Start(c.path, c.argv, c.attr, func(e Exit) { done <- e })
	if err != nil {
		return explainExec(c.path, err)
	}
	var e Exit
	select {
	case e = <-done:
	case <-ctx.Done():
		select {
		case e = <-done: // reaped already: its pid may be reused, do not kill
		default:
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			<-done
			return context.Cause(ctx)
		}
	}
	if !e.Success() {
		return errors.New(e.String())
	}
	return nil
}

// logLine adds a line of unit's own to a service's log.
func (s *Supervisor) logLine(name, text string) {
	l := LogLine{Time: time.Now(), Service: name, Text: text}
	s.ringFor(name).add(l)
	s.echo(l)
}

// runEnv is the environment, credentials and HOME every process of the
// service gets (the main one and its control commands).
func (s *Supervisor) runEnv(cfg *config.Service) ([]string, *syscall.Credential, error) {
	env, err := serviceEnv(s.env, cfg)
	if err != nil {
		return nil, nil, err
	}
	cred, home, err := credential(cfg)
	if err != nil {
		return nil, nil, err
	}
	if home != "" {
		env = append(env, "HOME="+home)
	}
	return append(env, dirsEnv(s.dirsRoot, cfg)...), cred, nil
}

package supervise

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/unit-os/unit/event"
	"github.com/unit-os/unit/probe"
)

// healthState is the health check of one running service. Checks run only
// when the user asked for them (health = ...), one timer per service.
type healthState struct {
	timer  timerSlot
	cancel context.CancelFunc // the check in flight
	fails  int
	status string // "", "ok", "failing N/M: why"
}

// startHealth schedules the first check of a service that became ready.
func (s *Supervisor) startHealth(v *service) {
	if v.cfg.Health == "" {
		return
	}
	v.health.fails, v.health.status = 0, "pending"
	s.scheduleHealth(v)
}

func (s *Supervisor) scheduleHealth(v *service) {
	gen := v.gen
	s.armSlot(&v.health.timer, v.cfg.HealthInterval.Duration, func() {
		if v.gen == gen && v.state == StateRunning {
			s.runHealth(v, gen)
		}
	})
}

func (s *Supervisor) stopHealth(v *service) {
	s.disarmSlot(&v.health.timer)
	if v.health.cancel != nil {
		v.health.cancel()
		v.health.cancel = nil
	}
}

// runHealth runs one check off the loop and posts its result.
func (s *Supervisor) runHealth(v *service, gen int) {
	ctx, cancel := context.WithTimeout(context.Background(), v.cfg.HealthTimeout.Duration)
	v.health.cancel = cancel
	spec, env := v.cfg.Health, serviceEnvBase(v.cfg)
	go func() {
		defer cancel()
		var err error
		func() {
			// PID 1 runs this: a probe that panics is a failed check, not a dead machine.
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("health check panicked: %v", p)
				}
			}()
			err = s.checkHealth(ctx, spec, env)
		}()
		s.post(func() { s.healthResult(v, gen, err) })
	}()
}

// healthResult records one check; HealthRetries failures in a row restart
// the service.
func (s *Supervisor) healthResult(v *service, gen int, err error) {
	if v.gen != gen || v.state != StateRunning {
		return
	}
	v.health.cancel = nil
	id := "service:" + v.name
	if err == nil {
		if v.health.fails > 0 {
			s.emit(event.Event{Resource: id, State: "healthy", Message: "health check passes again"})
		}
		v.health.fails, v.health.status = 0, "ok"
		s.scheduleHealth(v)
		return
	}
	v.health.fails++
	max := v.cfg.HealthRetries
	v.health.status = fmt.Sprintf("failing %d/%d: %v", v.health.fails, max, err)
	s.emit(event.Event{Resource: id, State: "unhealthy", Message: v.health.status,
		Fields: event.Fields{"fails": v.health.fails, "retries": max}})
	if v.health.fails < max {
		s.scheduleHealth(v)
		return
	}
	s.log.Warn("health check failed; restarting", "name", v.name, "err", err)
	v.killedFor = fmt.Sprintf("health check failed %d times (%v)", max, err)
	v.total++
	v.restartPending, v.wanted = true, false
	s.beginStop(v)
	s.reconcile()
}

// checkHealth runs one probe: tcp:PORT connects, http:PORT/PATH wants a
// 2xx or 3xx answer, exec:CMD wants exit 0.
func (s *Supervisor) checkHealth(ctx context.Context, spec string, env []string) error {
	var d net.Dialer
	switch {
	case strings.HasPrefix(spec, "tcp:"):
		c, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strings.TrimPrefix(spec, "tcp:")))
		if err != nil {
			return err
		}
		return c.Close()
	case strings.HasPrefix(spec, "http:"):
		port, path, _ := strings.Cut(strings.TrimPrefix(spec, "http:"), "/")
		return httpCheck(ctx, &d, port, "/"+path)
	case strings.HasPrefix(spec, "check:"):
		return s.runCheck(ctx, strings.TrimPrefix(spec, "check:"), env)
	case strings.HasPrefix(spec, "exec:"):
		e, err := s.reaper.RunCommand(ctx, []string{"/bin/sh", "-c", strings.TrimPrefix(spec, "exec:")}, env, nil)
		if err != nil {
			return err
		}
		if !e.Success() {
			return fmt.Errorf("%s", e)
		}
		return nil
	}
	return fmt.Errorf("unsupported health check %q", spec)
}

// runCheck asks the [check.NAME] the config names; its error says what
// was expected and what came ("expected body ~ ..., got ...").
func (s *Supervisor) runCheck(ctx context.Context, name string, env []string) error {
	if s.checks == nil {
		return fmt.Errorf("check:%s: no checks wired to the supervisor", name)
	}
	spec, ok := s.checks(name)
	if !ok {
		return fmt.Errorf("no [check.%s]", name)
	}
	return probe.Run(ctx, spec, func(ctx context.Context, argv []string) (int, []byte, error) {
		return s.reaper.RunOutput(ctx, argv, env)
	})
}

// httpCheck is a minimal HTTP/1.0 GET; only the status line matters.
func httpCheck(ctx context.Context, d *net.Dialer, port, path string) error {
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	} else {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	}
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\nUser-Agent: unit-health\r\n\r\n", path, port); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("http: no status line: %w", err)
	}
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/") {
		return fmt.Errorf("http: bad status line %q", strings.TrimSpace(line))
	}
	if f[1][0] != '2' && f[1][0] != '3' {
		return fmt.Errorf("http: %s", strings.TrimSpace(strings.Join(f[1:], " ")))
	}
	return nil
}

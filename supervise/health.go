package supervise

import (
	"context"
	"fmt"

	"github.com/unit-os/unit/config"
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
	spec, env := v.cfg.Health, serviceEnvBase(s.env, v.cfg)
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
	s.reconcileFor(v)
}

// checkHealth runs one probe through probe/, as [check.NAME] does:
// tcp:PORT connects, http:PORT/PATH wants a 2xx or 3xx answer, exec:CMD
// wants exit 0, check:NAME asks that check.
func (s *Supervisor) checkHealth(ctx context.Context, spec string, env []string) error {
	sp, err := config.ParseHealth(spec)
	if err != nil { // load validated it: a bug, reported as a failed check
		return fmt.Errorf("health = %q: %w", spec, err)
	}
	if sp.Kind == "check" {
		return s.runCheck(ctx, sp.Arg, env)
	}
	p, ok := probe.FromShort(sp)
	if !ok {
		return fmt.Errorf("unsupported health check %q", spec)
	}
	return probe.Run(ctx, p, s.probeRunner(env))
}

// probeRunner runs a probe's command through the reaper (PID 1 reaps
// every child) with the service's environment.
func (s *Supervisor) probeRunner(env []string) probe.Runner {
	return func(ctx context.Context, argv []string) (int, []byte, error) {
		return s.reaper.RunOutput(ctx, argv, env)
	}
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
	return probe.Run(ctx, spec, s.probeRunner(env))
}

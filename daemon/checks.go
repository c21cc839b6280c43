package daemon

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/execfile"
	"github.com/unit-os/unit/probe"
)

// runChecks answers `unit checks`: optionally waits for the services to be
// ready, then asks every [check.NAME] its question, all at once, each
// tried again every second until it passes or its `within` runs out.
func (d *Daemon) runChecks(ctx context.Context, wait time.Duration) ([]api.CheckResult, error) {
	checks := d.checks.Load()
	if wait > 0 {
		wctx, cancel := context.WithTimeout(ctx, wait)
		ready, err := d.sup.WaitReady(wctx)
		if err == nil {
			select {
			case <-ready:
			case <-wctx.Done():
			}
		}
		cancel()
	}
	if checks == nil {
		return nil, nil
	}
	names := slices.Sorted(maps.Keys(*checks))
	out := make([]api.CheckResult, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					out[i] = api.CheckResult{Name: name, Detail: "panic in the probe"}
					d.log.Error("check: panic", "check", name, "panic", r)
				}
			}()
			out[i] = d.runCheck(ctx, (*checks)[name])
		}()
	}
	wg.Wait()
	return out, nil
}

func (d *Daemon) runCheck(ctx context.Context, c *config.Check) api.CheckResult {
	res := api.CheckResult{Name: c.Name}
	switch {
	case c.HTTP != "":
		res.Kind, res.Target = "http", c.HTTP
	case c.TCP != "":
		res.Kind, res.Target = "tcp", c.TCP
	default:
		res.Kind, res.Target = "exec", strings.Join(c.Exec, " ")
	}
	spec, err := probe.FromCheck(c)
	if err != nil {
		res.Detail = err.Error()
		return res
	}
	start := time.Now()
	deadline := start.Add(probe.Within(c))
	// The verdict is the last real answer: a try the caller's time (an
	// update's trial) cut short says nothing about the service, and no
	// try starts once that time is over.
	err = nil
	for ctx.Err() == nil {
		res.Tries++
		tryErr := probe.Run(ctx, spec, d.probeRunner)
		if tryErr != nil && ctx.Err() != nil && err != nil {
			break
		}
		err = tryErr
		if err == nil || !time.Now().Before(deadline) {
			break
		}
		wait := time.NewTimer(min(time.Second, time.Until(deadline)))
		select {
		case <-ctx.Done():
		case <-wait.C:
		}
		wait.Stop()
	}
	if res.Tries == 0 {
		err = fmt.Errorf("not tried: %w", context.Cause(ctx))
	}
	res.Duration = time.Since(start)
	res.OK = err == nil
	if err != nil {
		res.Detail = err.Error()
	}
	return res
}

// probeRunner runs an exec check through the reaper (PID 1's only
// wait4), with its output on a pipe.
func (d *Daemon) probeRunner(ctx context.Context, argv []string) (int, []byte, error) {
	return d.reaper.RunOutput(ctx, argv, []string{"PATH=" + execfile.DefaultPATH})
}

// checkSpec is the probe of [check.NAME] in the running config, for a
// service's health or ready = "check:NAME".
func (d *Daemon) checkSpec(name string) (probe.Spec, bool) {
	checks := d.checks.Load()
	if checks == nil || (*checks)[name] == nil {
		return probe.Spec{}, false
	}
	spec, err := probe.FromCheck((*checks)[name])
	return spec, err == nil
}

var errNoChecks = errors.New("no [check.NAME] in the config")

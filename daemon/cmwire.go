package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/cm"
	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/platform"
	"github.com/unit-os/unit/supervise"
)

// cmServices lets the configuration manager start, restart and query
// services through the supervisor (cm.ServiceControl).
type cmServices struct{ sup *supervise.Supervisor }

func (s cmServices) Restart(ctx context.Context, name string) error { return s.sup.Restart(ctx, name) }
func (s cmServices) Start(ctx context.Context, name string) error   { return s.sup.Start(ctx, name) }

func (s cmServices) State(ctx context.Context, name string) (string, error) {
	sts, err := s.sup.Status(ctx, name)
	if err != nil {
		return "", err
	}
	if len(sts) == 0 {
		return "", fmt.Errorf("service %s: no status", name)
	}
	return sts[0].State, nil
}

// cmRunner runs exec resources' commands through the reaper, the only
// caller of wait4 in the daemon.
func cmRunner(r *supervise.Reaper) cm.CommandRunner {
	return func(ctx context.Context, argv, env []string, dir string, out *os.File) (bool, string, error) {
		if dir != "" {
			argv = append([]string{"/bin/sh", "-c", `cd "$0" && exec "$@"`, dir}, argv...)
		}
		e, err := r.RunCommand(ctx, argv, env, out)
		if err != nil {
			return false, "", err
		}
		return e.Success(), e.String(), nil
	}
}

// cmOptions wires the engine to the daemon: supervisor, reaper, events,
// reports under STATE/reports and, with a config directory, reloads.
func (d *Daemon) cmOptions(cfg *config.Config) []cm.Option {
	opts := []cm.Option{
		cm.WithServices(cmServices{d.sup}), cm.WithEvents(d.bus.Emit), cm.WithLogger(d.log),
		cm.WithRunner(cmRunner(d.reaper)),
		cm.WithReports(filepath.Join(d.opts.StateDir, "reports"), cfg.CM.Reports),
		cm.WithPlatformFacts(platform.FactsPath(d.opts.StateDir)),
	}
	if d.opts.ConfigDir != "" {
		opts = append(opts, cm.WithConfigDir(d.opts.ConfigDir, d.reloaded), cm.WithLoader(d.opts.Loader))
	}
	if os.Getpid() == 1 {
		// Only PID 1 owns the machine's name; `unit run` on a host must not
		// rename it.
		opts = append(opts, cm.WithHostname("/etc/hostname"))
	}
	return opts
}

// reloaded takes a new, valid config: the supervisor gets its services.
// The engine calls it only once the pass that converged the config's
// files ended, the order of boot (Run: the first convergence, then the
// supervisor): a new service never starts before the file it reads exists.
func (d *Daemon) reloaded(cfg *config.Config) {
	d.checks.Store(&cfg.Checks)
	d.metricsPath.Store(&cfg.Metrics.Textfile)
	ctx, cancel := context.WithTimeout(context.Background(), supervisorReloadTimeout)
	defer cancel()
	if err := d.sup.SetConfig(ctx, d.services(cfg)); err != nil {
		d.log.Error("config reload: supervisor", "err", err)
	}
}

// services are the config's services this daemon runs: the console shell
// of [system] console = "shell" only as PID 1 (`unit run` on a host never
// takes the machine's console).
func (d *Daemon) services(cfg *config.Config) map[string]*config.Service {
	if d.opts.Console != nil || cfg.System.Console != "shell" {
		return cfg.Services
	}
	out := make(map[string]*config.Service, len(cfg.Services))
	for n, s := range cfg.Services {
		if n != config.ConsoleService {
			out[n] = s
		}
	}
	return out
}

// forwardServiceEvents lets the engine converge again what requires a
// service once the supervisor says it is up.
func (d *Daemon) forwardServiceEvents(ctx context.Context) {
	ch, cancel := d.bus.Subscribe(256)
	defer cancel()
	d.engine.ForwardServiceEvents(ctx, ch)
}

// apiReport is the engine's report on the wire (nil stays nil).
func apiReport(r *cm.Report) *api.Report {
	if r == nil {
		return nil
	}
	out := &api.Report{Time: r.Time, Trigger: r.Trigger, Unchanged: r.Unchanged, Failed: r.Failed, Skipped: r.Skipped,
		Drifted: r.Drifted, Duration: r.Duration, DryRun: r.DryRun, ConfigError: r.ConfigError}
	for _, c := range r.Changes {
		ac := api.Change{Resource: c.Resource, From: c.From, Result: c.Result, What: c.What, Diff: c.Diff, Duration: c.Duration, Err: c.Err}
		for _, d := range c.Deltas {
			ac.Deltas = append(ac.Deltas, api.Delta(d))
		}
		out.Changes = append(out.Changes, ac)
	}
	for _, f := range r.Fights {
		out.Fights = append(out.Fights, api.Fight(f))
	}
	return out
}

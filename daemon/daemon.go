// Package daemon is the daemon that PID 1 runs and that `unit run` is on
// a host: the supervisor, the configuration manager and the control
// socket wired into one (Run), with the metrics, the checks, the journal
// of unit's own log, the state lock and the `unit update` command, which
// drives the update package's slots. It knows nothing of booting: pid1
// mounts, finds the root and hands over to Run.
package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/cm"
	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/devlog"
	"github.com/unit-os/unit/event"
	"github.com/unit-os/unit/supervise"
	"github.com/unit-os/unit/update"
)

// Options configure the daemon.
type Options struct {
	ConfigDir string
	Config    *config.Config // already loaded and validated; nil: load ConfigDir
	StateDir  string         // runtime state; the socket lives here unless Socket is set
	Socket    string
	Cgroups   string    // cgroup v2 dir for services ("" on a host)
	Console   io.Writer // echo service output and events here (PID 1)
	Log       *slog.Logger
	// DevLog, when set, is where the syslog socket is bound ("/dev/log"
	// as PID 1; a host has its own syslog there).
	DevLog string
	// Journal, when set, receives the supervisor's log "unit" once it
	// exists (PID 1's own structured log: `unit logs unit`).
	Journal *Journal
	// OnPower is called for reboot/poweroff/halt requests on the control socket.
	OnPower func(action string)
	// OnReady is called once every enabled service has settled: up is how
	// many are running and ready (or finished, for one-shots), down says
	// what each other one is doing. Its line goes to the console after
	// every service's own.
	OnReady func(up int, down []string) string
	// Release is the image's release id (/usr/lib/unit/release), shown
	// by status; "" on a host.
	Release string
	// Slots are a disk machine's root slots (nil elsewhere): status shows
	// them, update writes them, and a boot on trial is judged.
	Slots *update.Slots
	// Loader loads ConfigDir, at start and on reload: where unit's own
	// helpers are (the zero value: an image's /bin).
	Loader config.Loader
}

// supervisorReloadTimeout bounds handing a reloaded config to the supervisor.
const supervisorReloadTimeout = time.Minute

// Daemon is the running supervisor + configuration manager + control socket.
type Daemon struct {
	opts   Options
	log    *slog.Logger
	bus    *event.Bus
	reaper *supervise.Reaper
	// checks are the config's [check.NAME] tables, swapped on reload.
	checks atomic.Pointer[map[string]*config.Check]
	// metricsPath is [metrics] textfile, swapped on reload.
	metricsPath atomic.Pointer[string]
	sup         *supervise.Supervisor
	engine      *cm.Engine
	// phase is starting until the first hand-over, stopping at shutdown.
	phase *phase
}

// Run loads the config, starts everything, and serves until ctx ends; it
// then stops all services in reverse dependency order before returning.
func Run(ctx context.Context, o Options) error {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Socket == "" {
		o.Socket = filepath.Join(o.StateDir, "unit.sock")
	}
	cfg := o.Config
	if cfg == nil {
		var err error
		if cfg, err = o.Loader.Load(o.ConfigDir); err != nil {
			return fmt.Errorf("config %s:\n%w", o.ConfigDir, err)
		}
	}
	lock, err := lockState(o.StateDir)
	if err != nil {
		return err
	}
	defer lock.Close()
	defer tuneRuntime(o.Log, os.Getenv, nil)()
	// The config is not kept here: the engine and the supervisor hold what
	// they need, and 10,000 decoded file tables are megabytes.
	d := &Daemon{opts: o, log: o.Log, bus: event.NewBus(), phase: newPhase()}
	d.metricsPath.Store(&cfg.Metrics.Textfile)
	d.reaper = supervise.NewReaper(o.Log)
	supOpts := []supervise.Option{
		supervise.WithEvents(d.bus.Emit), supervise.WithLogger(o.Log), supervise.WithChecks(d.checkSpec),
		supervise.WithStateDir(o.StateDir),
		// Services reach this daemon: unit web, unit-fleet, scripts.
		supervise.WithEnv(map[string]string{"UNIT_SOCKET": o.Socket, "UNIT_STATE": o.StateDir}),
	}
	if o.Console != nil {
		supOpts = append(supOpts, supervise.WithConsole(o.Console))
	}
	if o.Cgroups != "" {
		supOpts = append(supOpts, supervise.WithCgroups(o.Cgroups))
	}
	d.sup = supervise.New(d.reaper, supOpts...)
	if o.Journal != nil {
		o.Journal.attach(d.sup.LogWriter("unit"))
	}
	d.engine = cm.New(d.cmOptions(cfg)...)

	var lopts []api.ListenOption
	if g := cfg.System.ControlGroup; g != "" {
		if gid, err := groupID(g, cfg); err != nil {
			d.log.Warn("control socket: root only", "control_group", g, "err", err)
		} else {
			lopts = append(lopts, api.ReadOnlyGroup(gid))
		}
	}
	l, err := api.Listen(o.Socket, lopts...)
	if err != nil {
		return err
	}
	loops, stopLoops := context.WithCancel(context.Background())
	defer stopLoops()
	var wg sync.WaitGroup
	goSafe := func(name string, f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer RecoverLog(d.log, name)
			f()
		}()
	}
	goSafe("reaper", func() { d.reaper.Run(loops) })
	goSafe("supervisor", func() { d.sup.Run(loops) })
	if o.DevLog != "" {
		if dl, err := devlog.Listen(o.DevLog); err != nil {
			d.log.Warn("no syslog socket: services that log to syslog go unheard", "path", o.DevLog, "err", err)
		} else {
			goSafe("/dev/log", func() { d.serveDevLog(loops, dl) })
		}
	}
	// The engine stops first at shutdown: a convergence then (a service it
	// wants running, a notify restart) would fight the ordered stop.
	cmCtx, stopCM := context.WithCancel(loops)
	defer stopCM()
	cmDone := make(chan struct{})
	goSafe("cm", func() {
		defer close(cmDone)
		if err := d.engine.Run(cmCtx); err != nil && cmCtx.Err() == nil {
			d.log.Error("cm engine stopped", "err", err)
		}
	})
	goSafe("cm service events", func() { d.forwardServiceEvents(loops) })
	// The socket answers until the services have stopped, so a client
	// sees "stopping" rather than nothing during the ordered stop.
	goSafe("control socket", func() { api.Serve(loops, l, d.handle, d.log) })
	{
		events, unsubscribe := d.bus.Subscribe(256)
		defer unsubscribe()
		goSafe("metrics", func() { d.writeMetrics(loops, events) })
	}
	if o.Console != nil {
		events, unsubscribe := d.bus.Subscribe(256)
		defer unsubscribe()
		goSafe("console events", func() { printEvents(loops, events, o.Console) })
	}

	// Files first (a service reads its config when it starts), then
	// services: a file created at boot must not restart the service that
	// needs it, as it would if both raced.
	d.checks.Store(&cfg.Checks)
	d.engine.SetConfig(cfg)
	if rep, err := d.engine.Converge(ctx); err != nil {
		d.log.Error("first convergence", "err", err)
	} else if rep.Failed > 0 {
		d.log.Warn("first convergence: some resources failed; services start anyway", "failed", rep.Failed)
	}
	if err := d.sup.SetConfig(ctx, d.services(cfg)); err != nil {
		return err
	}
	d.phase.set(api.SystemRunning)
	// One wait for the boot to settle serves the ready line and, on an
	// update's first boot, its trial.
	if ready, err := d.sup.WaitReady(ctx); err == nil {
		goSafe("ready", func() {
			select {
			case <-ready:
				// Services that stopped for a shutdown are not a boot
				// that settled.
				if o.OnReady != nil && ctx.Err() == nil {
					// Through the bus, as the services' events came
					// before ready: the console prints it after them.
					// Both read before either is emitted: the lines follow the summary with nothing between.
					summary, why := o.OnReady(d.settled(loops)), d.exitLines(loops)
					d.bus.Emit(event.Event{Resource: "unit", State: "settled", Message: summary})
					for _, line := range why {
						d.bus.Emit(event.Event{Resource: "unit", State: "settled", Message: line})
					}
				}
			case <-ctx.Done():
			}
		})
		if o.Slots != nil {
			d.slotsAtBoot()
			if o.Slots.Trial() {
				within := cfg.System.Trial.Duration
				if within <= 0 {
					within = defaultTrial
				}
				goSafe("update trial", func() { d.trial(ctx, ready, within) })
			}
		}
	}
	d.log.Info("unit running", "config", o.ConfigDir, "socket", o.Socket, "services", len(cfg.Services), "files", len(cfg.Files))

	<-ctx.Done()
	d.phase.set(api.SystemStopping)
	sctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stopCM()
	select {
	case <-cmDone:
	case <-sctx.Done():
	}
	d.log.Info("stopping services")
	if err := d.sup.Shutdown(sctx); err != nil {
		d.log.Error("shutdown: services did not all stop", "err", err)
	}
	stopLoops()
	wg.Wait()
	return nil
}

// settled counts the services that came up and names those that did not.
func (d *Daemon) settled(ctx context.Context) (up int, down []string) {
	sts, _ := d.sup.Status(ctx, "")
	return settledOf(sts)
}

// printEvents shows state changes on the console, like a boot log. When
// ctx ends it still prints what is queued: the last services' "stopped"
// lines are emitted just before the loops are told to end.
func printEvents(ctx context.Context, ch <-chan event.Event, w io.Writer) {
	print := func(e event.Event) {
		line := fmt.Sprintf("unit: %s %s", e.Resource, e.State)
		if e.Resource == "unit" {
			line = "unit: " + e.Message // unit's own sentence: the boot's summary
		} else if e.Message != "" {
			line += " (" + e.Message + ")"
		}
		fmt.Fprintln(w, line)
	}
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case e, ok := <-ch:
					if !ok {
						return
					}
					print(e)
				default:
					return
				}
			}
		case e, ok := <-ch:
			if !ok {
				return
			}
			print(e)
		}
	}
}

// RecoverLog, deferred in a goroutine, logs a panic instead of dying of
// it (in PID 1, dying would panic the kernel).
func RecoverLog(log *slog.Logger, name string) {
	if r := recover(); r != nil {
		log.Error("recovered from panic", "in", name, "panic", r)
	}
}

// Package cm is the configuration manager: resources with a desired state,
// and one event loop that converges them when the kernel says they drifted
// or the config says they changed. Nothing polls.
package cm

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/event"
)

// Option configures an Engine.
type Option func(*Engine)

// WithServices sets who restarts notified services (and, if it implements
// ServiceControl, starts stopped enabled ones).
func WithServices(s Services) Option { return func(e *Engine) { e.env.svc = s } }

// WithEvents sets where change, repair and failure events go.
func WithEvents(emit func(event.Event)) Option { return func(e *Engine) { e.emit = emit } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

// withWrap wraps every resource as it is built (tests count calls with it).
func withWrap(f func(Resource) Resource) Option { return func(e *Engine) { e.wrap = f } }

// Engine converges resources. Its state belongs to the Run goroutine; other
// goroutines talk to it through SetConfig, Apply and ConfigError.
type Engine struct {
	env     *env
	emit    func(event.Event)
	log     *slog.Logger
	wrap    func(Resource) Resource
	reports *reportStore
	stats   stats

	mu      sync.Mutex
	pending *config.Config    // latest config not yet taken by the loop
	cfgErr  string            // the last rejected config's error, "" once a good one came
	failing map[string]string // resource id → why its last convergence failed (failing.go)
	kick    chan struct{}     // capacity 1: "pending changed", coalesced
	wake    chan struct{}     // capacity 1: a fight backoff ended
	reqs    chan applyReq
	running atomic.Bool
	done    chan struct{} // closed when Run returns
	w       atomic.Pointer[watcher]
	// eventGate, set by tests before Run, stops the inotify reader while
	// held (collect.go).
	eventGate *sync.Mutex

	// Owned by the Run goroutine.
	plan     *plan
	facts    string              // the facts templates saw, as JSON
	byPath   pathIndex           // watched path -> resource ids
	byDir    map[string][]string // directory -> ids dirty on any change in it
	dirty    map[string]cause
	deferred map[string]cause // fighting: waiting for their backoff
	fights   fights
	retries  retries // failed retriers (net) waiting to be tried again (retry.go)
	timer    *time.Timer

	cfgDir      string        // watched for reloads; "" when not
	loader      config.Loader // loads it (WithLoader)
	onConfig    func(*config.Config)
	handC       chan *config.Config // capacity 1: the latest reload for onConfig (reload.go)
	reloadC     chan struct{}
	reloadArmed bool // owned by the Run goroutine

	lane laneState // execs and their dependents, converged beside the loop (background.go)

	svcC  chan struct{}   // capacity 1: services came up (svcUp, under mu)
	netC  chan struct{}   // capacity 1: a link or address changed (netwatch.go)
	svcUp map[string]bool // services that became running since the loop looked
}

type applyReq struct {
	dry   bool
	reply chan *Report // buffered: the loop never waits for a caller that gave up
}

// New returns an engine with no resources; give it a config with SetConfig.
func New(opts ...Option) *Engine {
	e := &Engine{
		env:      defaultEnv(),
		kick:     make(chan struct{}, 1),
		wake:     make(chan struct{}, 1),
		reloadC:  make(chan struct{}, 1),
		handC:    make(chan *config.Config, 1),
		svcC:     make(chan struct{}, 1),
		netC:     make(chan struct{}, 1),
		reqs:     make(chan applyReq),
		done:     make(chan struct{}),
		plan:     &plan{res: map[string]Resource{}, g: &graph{pos: map[string]int{}}},
		byPath:   newPathIndex(),
		byDir:    map[string][]string{},
		dirty:    map[string]cause{},
		deferred: map[string]cause{},
		fights:   fights{},
		retries:  retries{},
		lane:     newLaneState(),
	}
	for _, o := range opts {
		o(e)
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	if e.emit == nil {
		e.emit = func(event.Event) {}
	}
	e.env.log = e.log
	return e
}

// SetConfig hands a new, already validated config to the loop. It never
// blocks; if several arrive before the loop wakes, the last one wins.
func (e *Engine) SetConfig(cfg *config.Config) {
	if cfg == nil {
		return
	}
	e.mu.Lock()
	e.pending = cfg
	e.mu.Unlock()
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// ConfigError records that a new config was rejected (err has file:line):
// the last good one keeps running. It is emitted as a "config" "error"
// event and shown in reports until a good config arrives.
func (e *Engine) ConfigError(err error) {
	msg := err.Error()
	e.mu.Lock()
	e.cfgErr = msg
	e.mu.Unlock()
	e.log.Error("cm: config rejected; keeping the last good one", "err", msg)
	e.emit(event.Event{Time: time.Now(), Resource: "config", State: "error", Message: msg})
	e.saveReport(&Report{Time: time.Now(), Trigger: "config"})
}

func (e *Engine) configError() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cfgErr
}

// LastConfigError is the error of the config that is in place but was
// rejected (file:line: message), or "" while the running config is the one
// on disk. `unit status` shows it.
func (e *Engine) LastConfigError() string { return e.configError() }

// Apply converges every resource now, through the loop, and returns the
// report; with dryRun it only reports what would change.
func (e *Engine) Apply(ctx context.Context, dryRun bool) (*Report, error) {
	if !e.running.Load() {
		return nil, errors.New("cm: engine not running")
	}
	return e.request(ctx, dryRun)
}

// Converge is Apply for the daemon's first pass at boot: it may be called
// before Run has started (it waits for the loop), so services can start
// only after the files they read are in place.
func (e *Engine) Converge(ctx context.Context) (*Report, error) {
	return e.request(ctx, false)
}

func (e *Engine) request(ctx context.Context, dryRun bool) (*Report, error) {
	req := applyReq{dry: dryRun, reply: make(chan *Report, 1)}
	select {
	case e.reqs <- req:
	case <-e.done:
		return nil, errors.New("cm: engine stopped")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case rep := <-req.reply:
		return rep, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// WatchCount is the number of inotify watches the running engine holds: one
// per directory with managed paths.
func (e *Engine) WatchCount() int {
	if w := e.w.Load(); w != nil {
		return w.count()
	}
	return 0
}

// InotifyOverflows counts the times the running engine lost inotify events
// (the kernel's queue overflowed, or too many names waited) and so
// re-checked every resource.
func (e *Engine) InotifyOverflows() int64 {
	if w := e.w.Load(); w != nil {
		return w.col.overflows.Load()
	}
	return 0
}

// ApplyOnce converges every resource of cfg once, without watching: the
// `unit apply --once` mode. With dryRun it changes nothing and reports what
// it would change. Resource failures are in the report; the error is for
// a missing or cyclic config or a cancelled ctx.
func ApplyOnce(ctx context.Context, cfg *config.Config, dryRun bool, opts ...Option) (*Report, error) {
	if cfg == nil {
		return nil, errors.New("cm: no config")
	}
	e := New(opts...)
	if !e.env.factsFixed {
		e.env.facts.Store(gatherFacts(cfg, e.env.platformFacts))
	}
	p, err := e.build(cfg)
	if err != nil {
		return nil, err
	}
	all := make(map[string]cause, len(p.res))
	for id := range p.res {
		all[id] = causeConfig
	}
	rep := e.converge(ctx, p, all, dryRun, "once")
	if !dryRun {
		e.saveReport(rep)
	}
	return rep, ctx.Err()
}

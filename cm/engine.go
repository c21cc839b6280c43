// Package cm is the configuration manager: resources with a desired state,
// and one event loop that converges them when the kernel says they drifted
// or the config says they changed. Nothing polls.
package cm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"unit/config"
	"unit/event"
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

	mu      sync.Mutex
	pending *config.Config // latest config not yet taken by the loop
	cfgErr  string         // the last rejected config's error, "" once a good one came
	kick    chan struct{}  // capacity 1: "pending changed", coalesced
	wake    chan struct{}  // capacity 1: a fight backoff ended
	reqs    chan applyReq
	running atomic.Bool
	done    chan struct{} // closed when Run returns
	w       atomic.Pointer[watcher]

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

	cfgDir      string // watched for reloads; "" when not
	onConfig    func(*config.Config)
	handC       chan *config.Config // capacity 1: the latest reload for onConfig (reload.go)
	reloadC     chan struct{}
	reloadArmed bool // owned by the Run goroutine

	lane laneState // execs and their dependents, converged beside the loop (background.go)

	svcC  chan struct{}   // capacity 1: services came up (svcUp, under mu)
	netC  chan struct{}   // capacity 1: a link or address changed (netwatch.go)
	svcUp map[string]bool // services that became running since the loop looked
}

// cause is why a resource is dirty; it decides the event state of a change.
type cause uint8

const (
	causeDrift  cause = iota + 1 // inotify, or an explicit apply found drift: "repaired"
	causeConfig                  // new or changed desired state: "changed"
)

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

// Run is the one loop: it owns the watcher and converges dirty resources
// until ctx ends. Between inputs it sleeps in select: no timers (but a
// fight's backoff), no syscalls.
func (e *Engine) Run(ctx context.Context) error {
	if !e.running.CompareAndSwap(false, true) {
		return errors.New("cm: Run called twice")
	}
	defer close(e.done)
	w, err := newWatcher()
	if err != nil {
		return fmt.Errorf("cm: %w", err)
	}
	defer w.close()
	e.w.Store(w)
	defer e.w.Store(nil)
	if e.reports != nil {
		go e.reports.run(ctx, e.log)
	}
	go func() {
		defer func() {
			if p := recover(); p != nil {
				e.log.Error("cm: panic in the netlink watch; net resources converge only on other passes", "panic", p)
			}
		}()
		watchNet(ctx, e.log, e.netC)
	}()
	if e.onConfig != nil {
		go e.runHandOver(ctx)
	}
	if e.cfgDir != "" {
		// A path inside the directory puts the watch on the directory itself.
		if err := w.add(e.cfgDir + "/."); err != nil {
			e.log.Error("cm: cannot watch the config directory; no reloads", "dir", e.cfgDir, "err", err)
		}
	}
	defer func() {
		if e.timer != nil {
			e.timer.Stop()
		}
	}()
	for {
		stop, err := e.step(ctx, w)
		if stop {
			return err
		}
	}
}

// step waits for one input, coalesces whatever else is queued, then
// converges the dirty set. A panic is logged and the loop goes on: this runs
// inside PID 1.
func (e *Engine) step(ctx context.Context, w *watcher) (stop bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			e.log.Error("cm: panic in loop", "panic", r, "stack", string(debug.Stack()))
			stop, err = false, nil
		}
	}()
	trigger := "drift"
	select {
	case <-ctx.Done():
		return true, nil
	case <-e.kick:
		e.takeConfig(ctx, w)
		trigger = "config"
	case ev, ok := <-w.fs.Events:
		if !ok {
			return true, errors.New("cm: inotify watcher closed")
		}
		e.onEvent(w, ev)
	case err, ok := <-w.fs.Errors:
		if !ok {
			return true, errors.New("cm: inotify watcher closed")
		}
		e.onError(err)
	case <-e.reloadC:
		if cfg := e.reload(ctx, w); cfg != nil {
			// After this step's pass, even one that panicked.
			defer e.handOver(cfg)
		}
		trigger = "config"
	case <-e.svcC:
		e.takeServiceEvents()
		trigger = "service"
	case <-e.netC:
		e.takeNetEvents()
		trigger = "net"
	case res := <-e.lane.done:
		e.finishBackground(res)
		for _, dir := range w.retry() {
			e.markDir(dir)
		}
	case <-e.wake:
		now := time.Now()
		for id, c := range e.deferred {
			if until, ok := e.retryAt(id); ok && now.Before(until) {
				continue // woken for another one
			}
			e.mark(id, c)
			delete(e.deferred, id)
		}
		e.armBackoffTimer(now)
		trigger = "retry"
	case req := <-e.reqs:
		e.takeConfig(ctx, w)
		e.drain(ctx, w)
		req.reply <- e.applyAll(ctx, w, req.dry)
		if req.dry {
			// A dry run changes nothing, but drift drained for it (or
			// queued meanwhile) is still to be repaired now, not at the
			// next unrelated event.
			e.drain(ctx, w)
			e.convergeDirty(ctx, w, "drift")
		}
		return false, nil
	}
	e.drain(ctx, w)
	e.convergeDirty(ctx, w, trigger)
	return false, nil
}

// maxDrain bounds one coalescing pass so a writer in a tight loop cannot
// keep the loop draining forever instead of converging.
const maxDrain = 4096

// drain folds inputs that are already queued into the dirty set, so a burst
// of events (or our own write's echo arriving with someone else's edit)
// costs one convergence, not one per event.
func (e *Engine) drain(ctx context.Context, w *watcher) {
	for range maxDrain {
		select {
		case ev, ok := <-w.fs.Events:
			if !ok {
				return
			}
			e.onEvent(w, ev)
		case err, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			e.onError(err)
		case <-e.kick:
			e.takeConfig(ctx, w)
		default:
			return
		}
	}
}

func (e *Engine) onEvent(w *watcher, ev fsnotify.Event) {
	if e.isConfigEvent(ev.Name) {
		e.scheduleReload()
	}
	e.byPath.ids(ev.Name, func(id string) { e.mark(id, causeDrift) })
	if ids := e.byDir[filepath.Dir(ev.Name)]; len(ids) > 0 && !isOurTemp(filepath.Base(ev.Name)) {
		for _, id := range ids {
			e.mark(id, causeDrift)
		}
	}
	// A watched directory deleted or moved away takes its watch with it:
	// re-check everything in it (Apply recreates it) and re-watch after.
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		if w.lost(ev.Name) {
			e.markDir(ev.Name)
		}
	}
}

func (e *Engine) onError(err error) {
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		// Events were lost: anything may have changed.
		e.log.Warn("cm: inotify queue overflow; re-checking everything")
		for id := range e.plan.res {
			e.mark(id, causeDrift)
		}
		return
	}
	e.log.Error("cm: inotify", "err", err)
}

func (e *Engine) mark(id string, c cause) {
	if c > e.dirty[id] {
		e.dirty[id] = c
	}
}

// markDir marks the resources watching any path directly in dir.
func (e *Engine) markDir(dir string) {
	e.byPath.each(func(p, id string) {
		if filepath.Dir(p) == dir {
			e.mark(id, causeDrift)
		}
	})
	for _, id := range e.byDir[dir] {
		e.mark(id, causeDrift)
	}
}

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

	"github.com/fsnotify/fsnotify"

	"unit/config"
	"unit/event"
)

// Services is how cm drives the supervisor (implemented by supervise).
type Services interface {
	Restart(ctx context.Context, name string) error
}

// Option configures an Engine.
type Option func(*Engine)

// WithServices sets who restarts notified services.
func WithServices(s Services) Option { return func(e *Engine) { e.svc = s } }

// WithEvents sets where change, repair and failure events go.
func WithEvents(emit func(event.Event)) Option { return func(e *Engine) { e.emit = emit } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

// withWrap wraps every resource as it is built (tests count calls with it).
func withWrap(f func(Resource) Resource) Option { return func(e *Engine) { e.wrap = f } }

// Engine converges resources. Its state belongs to the Run goroutine; other
// goroutines talk to it through SetConfig and Apply.
type Engine struct {
	svc  Services
	emit func(event.Event)
	log  *slog.Logger
	wrap func(Resource) Resource

	mu      sync.Mutex
	pending *config.Config // latest config not yet taken by the loop
	kick    chan struct{}  // capacity 1: "pending changed", coalesced
	reqs    chan applyReq
	running atomic.Bool
	done    chan struct{} // closed when Run returns
	w       atomic.Pointer[watcher]

	// Owned by the Run goroutine.
	res    map[string]Resource
	byPath map[string]map[string]struct{} // watched path -> resource ids
	dirty  map[string]cause
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
		kick:   make(chan struct{}, 1),
		reqs:   make(chan applyReq),
		done:   make(chan struct{}),
		res:    map[string]Resource{},
		byPath: map[string]map[string]struct{}{},
		dirty:  map[string]cause{},
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

// Apply converges every resource now, through the loop, and returns the
// report; with dryRun it only reports what would change.
func (e *Engine) Apply(ctx context.Context, dryRun bool) (*Report, error) {
	if !e.running.Load() {
		return nil, errors.New("cm: engine not running")
	}
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
// until ctx ends. Between inputs it sleeps in select: no timers, no syscalls.
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
	select {
	case <-ctx.Done():
		return true, nil
	case <-e.kick:
		e.takeConfig(w)
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
	case req := <-e.reqs:
		e.takeConfig(w)
		e.drain(w)
		req.reply <- e.applyAll(ctx, w, req.dry)
		return false, nil
	}
	e.drain(w)
	e.convergeDirty(ctx, w)
	return false, nil
}

// maxDrain bounds one coalescing pass so a writer in a tight loop cannot
// keep the loop draining forever instead of converging.
const maxDrain = 4096

// drain folds inputs that are already queued into the dirty set, so a burst
// of events (or our own write's echo arriving with someone else's edit)
// costs one convergence, not one per event.
func (e *Engine) drain(w *watcher) {
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
			e.takeConfig(w)
		default:
			return
		}
	}
}

func (e *Engine) onEvent(w *watcher, ev fsnotify.Event) {
	for id := range e.byPath[ev.Name] {
		e.mark(id, causeDrift)
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
		for id := range e.res {
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
	for p, ids := range e.byPath {
		if filepath.Dir(p) == dir {
			for id := range ids {
				e.mark(id, causeDrift)
			}
		}
	}
}

// takeConfig diffs the pending config against the loaded one: new and
// changed resources become dirty, unchanged ones are not even looked at,
// removed ones are forgotten (left on disk, unwatched).
func (e *Engine) takeConfig(w *watcher) {
	e.mu.Lock()
	cfg := e.pending
	e.pending = nil
	e.mu.Unlock()
	if cfg == nil {
		return
	}
	next := e.build(cfg)
	for id, r := range next {
		old, ok := e.res[id]
		if ok && old.Same(r) {
			continue
		}
		// Watch the new before unwatching the old, so a shared directory
		// keeps its watch instead of dropping and re-adding it.
		e.watch(w, r)
		if ok {
			e.unwatch(w, old)
		}
		e.res[id] = r
		e.mark(id, causeConfig)
	}
	for id, old := range e.res {
		if _, ok := next[id]; !ok {
			e.unwatch(w, old)
			delete(e.res, id)
			delete(e.dirty, id)
			e.log.Info("cm: resource removed from config; left in place", "resource", id)
		}
	}
}

func (e *Engine) build(cfg *config.Config) map[string]Resource {
	res := buildResources(cfg)
	if e.wrap != nil {
		for id, r := range res {
			res[id] = e.wrap(r)
		}
	}
	return res
}

func (e *Engine) watch(w *watcher, r Resource) {
	for _, p := range r.Watches() {
		ids := e.byPath[p]
		if ids == nil {
			ids = map[string]struct{}{}
			e.byPath[p] = ids
		}
		ids[r.ID()] = struct{}{}
		if err := w.add(p); err != nil {
			e.log.Error("cm: watch", "path", p, "err", err)
		}
	}
}

func (e *Engine) unwatch(w *watcher, r Resource) {
	for _, p := range r.Watches() {
		delete(e.byPath[p], r.ID())
		if len(e.byPath[p]) == 0 {
			delete(e.byPath, p)
		}
		w.remove(p)
	}
}

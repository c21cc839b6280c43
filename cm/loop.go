package cm

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/unit-os/unit/safepath"
)

// The loop: start here. One goroutine, Run, owns the engine's state; the
// rest of the program talks to it through channels, and between inputs it
// sleeps in select (no polling, no syscalls). step takes one input, drain
// folds in whatever else is already queued, and one convergence pass
// repairs the dirty set:
//
//	inotify (inotify.go) ------------> onEvent: mark who watches the path;
//	                                   a config *.toml or the platform facts
//	                                   (platformreload.go) arm the reload timer
//	reload timer (reload.go) --------> reload: load, check, takeConfig;
//	                                   hand over after the pass (handOver)
//	SetConfig (engine.go) -----------> takeConfig (take.go): new or changed
//	                                   resources dirty, removed ones dropped
//	supervisor events ---------------> takeServiceEvents (svcevents.go)
//	rtnetlink (netwatch.go) ---------> takeNetEvents
//	backoff timer (backoff.go) ------> wakeDeferred: fights and retries due
//	background pass (background.go) -> finishBackground: its report
//	Apply, Converge (engine.go) -----> serve: applyAll, reply with the report
//	                                   |
//	                                   v
//	                drain: fold queued inputs into the dirty set
//	                                   |
//	                                   v
//	convergeDirty (dirty.go): long runners to the background lane; one
//	pass (pass.go) in dependency order, independent ones in parallel;
//	notified targets refreshed (refresh.go); fights and retries noted
//	(backoff.go, retry.go); the report kept (reportstore.go); directories
//	the pass created watched, their files checked again (inotify.go)

// cause is why a resource is dirty; it decides the event state of a change.
type cause uint8

const (
	causeDrift  cause = iota + 1 // inotify, or an explicit apply found drift: "repaired"
	causeConfig                  // new or changed desired state: "changed"
)

// Run is the one loop: it owns the watcher and converges dirty resources
// until ctx ends. Between inputs it sleeps in select: no syscalls, and no
// timer but the backoff timer (backoff.go) or a reload's settle
// (reload.go), each only while something waits for it.
func (e *Engine) Run(ctx context.Context) error {
	if !e.running.CompareAndSwap(false, true) {
		return errors.New("cm: Run called twice")
	}
	defer close(e.done)
	w, err := newWatcher(e.eventGate)
	if err != nil {
		return fmt.Errorf("cm: %w", err)
	}
	defer w.close()
	e.w.Store(w)
	defer e.w.Store(nil)
	if e.reports != nil {
		// Run returns only once the report writer is done, so nothing
		// writes under the state directory after the engine stopped
		// (shutdown syncs and unmounts next).
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.reports.run(ctx, e.log)
		}()
		defer wg.Wait()
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
		// The layers' directory may come later: a pending watch until then.
		if err := w.add(e.layerDir() + "/."); err != nil {
			e.log.Error("cm: cannot watch the config layers", "dir", e.layerDir(), "err", err)
		}
		e.watchPlatformFacts(w)
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
	case <-w.col.ready:
		e.takeEvents(w)
	case <-w.col.closed:
		return true, errors.New("cm: inotify watcher closed")
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
		e.wakeDeferred(time.Now())
		trigger = "retry"
	case req := <-e.reqs:
		e.serve(ctx, w, req)
		return false, nil
	}
	e.drain(ctx, w)
	e.convergeDirty(ctx, w, trigger)
	return false, nil
}

// serve answers Apply and Converge: everything converges (or, dry, is
// checked) in one pass whose report is the reply.
func (e *Engine) serve(ctx context.Context, w *watcher, req applyReq) {
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
		case <-w.col.ready:
			e.takeEvents(w)
		case <-e.kick:
			e.takeConfig(ctx, w)
		default:
			return
		}
	}
}

func (e *Engine) onEvent(w *watcher, ev fsnotify.Event) {
	if e.isConfigEvent(ev.Name) {
		if ev.Name == e.layerDir() && ev.Has(fsnotify.Create) {
			// The layers' directory just came: watch it now, not after
			// the next pass. The reload reads it after the settle, so a
			// layer written before this watch is read, and one written
			// after is seen (the fleet agent makes the directory and
			// writes its first layer within milliseconds).
			for _, dir := range w.retry() {
				e.markDir(dir)
			}
		}
		e.scheduleReload()
	}
	if e.isPlatformEvent(ev.Name) {
		e.log.Debug("cm: platform facts changed; reloading the config", "path", ev.Name, "op", ev.Op.String())
		e.scheduleReload()
	}
	e.byPath.ids(ev.Name, func(id string) { e.mark(id, causeDrift) })
	if ids := e.byDir[filepath.Dir(ev.Name)]; len(ids) > 0 && !safepath.IsTemp(filepath.Base(ev.Name)) {
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

// takeEvents folds what the collector gathered into the dirty set.
func (e *Engine) takeEvents(w *watcher) {
	evs, errs, overflow := w.col.take()
	if overflow {
		// Events were lost: anything may have changed.
		e.log.Warn("cm: inotify events lost (queue overflow); re-checking everything", "overflows", w.col.overflows.Load())
		for id := range e.plan.res {
			e.mark(id, causeDrift)
		}
	}
	for _, ev := range evs {
		e.onEvent(w, ev)
	}
	for _, err := range errs {
		e.log.Error("cm: inotify", "err", err)
	}
}

func (e *Engine) mark(id string, c cause) {
	if c > e.dirty[id] {
		e.dirty[id] = c
	}
}

// markDir marks the resources watching any path directly in dir.
func (e *Engine) markDir(dir string) {
	if (e.cfgDir != "" && dir == e.layerDir()) || e.isPlatformDir(dir) {
		e.scheduleReload() // its watch came (or went): read the layers, the facts again
	}
	e.byPath.each(func(p, id string) {
		if filepath.Dir(p) == dir {
			e.mark(id, causeDrift)
		}
	})
	for _, id := range e.byDir[dir] {
		e.mark(id, causeDrift)
	}
}

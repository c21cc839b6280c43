package cm

import (
	"context"
	"runtime/debug"
	"time"
)

// What the loop converges: the dirty set after each input (convergeDirty)
// or, for Apply and Converge, everything (applyAll). Both run one pass
// (pass.go) and note its fights and failures for the backoff timer.

// convergeDirty converges the dirty set, then re-adds watches on
// directories that convergence created; their files are checked once more
// since anything in them before the watch existed went unseen. The second
// round adds no new watches unless a directory appeared meanwhile, so this
// ends. Resources in a fight's backoff wait for it (one timer, only then).
func (e *Engine) convergeDirty(ctx context.Context, w *watcher, trigger string) {
	defer e.startBackground(ctx)
	for round := 0; len(e.dirty) > 0 && round < 3; round++ {
		dirty := e.dirty
		e.dirty = map[string]cause{}
		now := time.Now()
		for id, c := range dirty {
			if _, ok := e.fights.blocked(id, now); ok {
				if c > e.deferred[id] {
					e.deferred[id] = c
				}
				delete(dirty, id)
			}
		}
		e.armBackoffTimer(now)
		e.splitLane(dirty, true)
		if len(dirty) == 0 {
			return
		}
		for _, c := range dirty {
			if c == causeConfig {
				trigger = "config" // a config taken while draining
			}
		}
		rep := e.convergeLane(ctx, e.plan, dirty, false, trigger, lane{deferExec: e.lane.notify})
		if len(dirty) >= bigPass {
			e.returnMemory()
		}
		e.noteFights(rep, dirty)
		e.noteRetries(rep, dirty, time.Now())
		e.armBackoffTimer(time.Now())
		if len(rep.Changes) > 0 || trigger == "config" {
			e.log.Info("cm: converged", "trigger", trigger, "changed", rep.Changed(), "failed", rep.Failed, "took", rep.Duration)
			e.saveReport(rep)
		}
		for _, dir := range w.retry() {
			e.markDir(dir)
		}
		trigger = "drift"
	}
}

// applyAll converges (or, dry, checks) every resource.
func (e *Engine) applyAll(ctx context.Context, w *watcher, dry bool) *Report {
	all := make(map[string]cause, len(e.plan.res))
	for id := range e.plan.res {
		all[id] = causeDrift
		if c := e.dirty[id]; c != 0 {
			all[id] = c
		}
	}
	if !dry {
		// What runs in the background, and what depends on it, waits for
		// it; its report follows.
		e.splitLane(all, false)
	} else {
		for id := range e.lane.running {
			delete(all, id)
		}
	}
	rep := e.converge(ctx, e.plan, all, dry, "apply")
	if len(all) >= bigPass {
		defer e.returnMemory()
	}
	rep.ConfigError = e.configError()
	rep.Fights = e.fights.active(time.Now())
	if !dry {
		e.saveReport(rep)
		e.dirty = map[string]cause{}
		e.deferred = map[string]cause{}
		now := time.Now()
		e.noteRetries(rep, all, now)
		e.armBackoffTimer(now)
		for _, dir := range w.retry() {
			e.markDir(dir)
		}
		e.convergeDirty(ctx, w, "drift")
	}
	return rep
}

// bigPass is the pass size after which the garbage of the pass (config
// decoding, per-resource outcomes) is handed back to the kernel at once
// rather than kept as heap headroom: steady state is what must be small.
const bigPass = 1000

func (e *Engine) returnMemory() { debug.FreeOSMemory() }

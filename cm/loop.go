package cm

import (
	"context"
	"runtime/debug"
	"time"
)

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

// noteFights records drift repairs and reports resources that fight.
func (e *Engine) noteFights(rep *Report, dirty map[string]cause) {
	now := time.Now()
	for _, c := range rep.Changes {
		if c.Result != "repaired" || dirty[c.Resource] != causeDrift {
			continue
		}
		if f := e.fights.repaired(c.Resource, now); f != nil {
			e.log.Warn("cm: fight: someone keeps changing a managed resource", "resource", f.Resource,
				"repairs", f.Repairs, "backoff", f.Backoff)
			e.emit(eventFight(*f))
		}
	}
	rep.Fights = e.fights.active(now)
}

// armBackoffTimer wakes the loop when the earliest deferred backoff ends: a
// fight's, or a failed resource's retry (retry.go).
func (e *Engine) armBackoffTimer(now time.Time) {
	if len(e.deferred) == 0 {
		return
	}
	var first time.Time
	for id := range e.deferred {
		until, ok := e.fights.blocked(id, now)
		if r, rok := e.retryAt(id); rok && (!ok || r.After(until)) {
			until, ok = r, true
		}
		if ok && (first.IsZero() || until.Before(first)) {
			first = until
		}
	}
	d := time.Duration(0)
	if !first.IsZero() {
		d = max(first.Sub(now), 0)
	}
	if e.timer == nil {
		e.timer = time.AfterFunc(d, e.wakeUp)
		return
	}
	e.timer.Reset(d)
}

func (e *Engine) wakeUp() {
	select {
	case e.wake <- struct{}{}:
	default:
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

package cm

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"
)

// The background lane. A longRunner (an exec: a command that may take
// minutes, up to its timeout), converged in the loop's own pass, would
// hold every other repair until it ended. So the loop's passes leave out
// the dirty longRunners and whatever depends on them (directly or through
// clean resources), and one background pass at a time converges those
// beside the loop, with the longRunner refreshes that changes in the
// loop's passes notified.
// What becomes dirty while it runs and belongs to it (an id in flight, or a
// dependent of one) waits for the next background pass; everything else is
// repaired by the loop as usual. `unit apply` and the first convergence
// run execs in their own pass, since their caller waits for the report;
// only what a background pass has in flight, and what depends on it, is
// left to that pass.

// bgResult is a finished background pass.
type bgResult struct {
	rep   *Report
	dirty map[string]cause
}

// laneState is owned by the Run goroutine.
type laneState struct {
	running map[string]bool     // ids of the pass in flight; nil when none
	pending map[string]cause    // for the next background pass
	notify  map[string][]string // exec refreshes for the next background pass
	done    chan bgResult       // capacity 1: one pass at a time never blocks
}

func newLaneState() laneState {
	return laneState{pending: map[string]cause{}, notify: map[string][]string{}, done: make(chan bgResult, 1)}
}

// splitLane moves out of dirty, into the pending background set, every
// dirty resource that depends on an id in flight and, with execs, every
// dirty exec and what depends on one.
func (e *Engine) splitLane(dirty map[string]cause, execs bool) {
	var seeds []string
	for id := range dirty {
		if execs && runsLong(e.plan.res[id]) {
			seeds = append(seeds, id)
		}
	}
	for id := range e.lane.running {
		seeds = append(seeds, id)
	}
	if len(seeds) == 0 {
		return
	}
	seen := map[string]bool{}
	for len(seeds) > 0 {
		id := seeds[len(seeds)-1]
		seeds = seeds[:len(seeds)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		if c, ok := dirty[id]; ok {
			if c > e.lane.pending[id] {
				e.lane.pending[id] = c
			}
			delete(dirty, id)
		}
		seeds = append(seeds, e.plan.g.succs[id]...)
	}
}

// startBackground starts the next background pass if none is in flight
// and there is work for one.
func (e *Engine) startBackground(ctx context.Context) {
	if e.lane.running != nil || (len(e.lane.pending) == 0 && len(e.lane.notify) == 0) {
		return
	}
	p, set, notify := e.plan, e.lane.pending, e.lane.notify
	e.lane.pending, e.lane.notify = map[string]cause{}, map[string][]string{}
	e.lane.running = map[string]bool{}
	for id := range set {
		if p.res[id] == nil {
			delete(set, id) // left the config meanwhile
			continue
		}
		e.lane.running[id] = true
	}
	for id := range notify {
		e.lane.running[id] = true
	}
	done := e.lane.done
	go func() {
		rep := &Report{Time: time.Now(), Trigger: "exec"}
		defer func() {
			if v := recover(); v != nil {
				e.log.Error("cm: panic in background pass", "panic", v, "stack", string(debug.Stack()))
				rep.Failed++
				rep.Changes = append(rep.Changes, Change{Resource: "exec", Result: "failed", Err: fmt.Sprint("panic: ", v)})
			}
			done <- bgResult{rep: rep, dirty: set}
		}()
		rep = e.convergeLane(ctx, p, set, false, "exec", lane{notified: notify})
	}()
}

// finishBackground takes a background pass's report in the loop.
func (e *Engine) finishBackground(res bgResult) {
	e.lane.running = nil
	e.noteFights(res.rep, res.dirty)
	if len(res.rep.Changes) > 0 {
		e.log.Info("cm: converged", "trigger", "exec", "changed", res.rep.Changed(), "failed", res.rep.Failed, "took", res.rep.Duration)
		e.saveReport(res.rep)
	}
}

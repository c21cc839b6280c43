package cm

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/unit-os/unit/event"
)

// One convergence pass: the given resources in dependency order,
// independent ones in parallel (schedule), then the notified targets
// (refresh.go), as one report.

// outcome is one resource's part of a convergence.
type outcome struct {
	id     string
	deltas []Delta
	diff   string
	err    error
	skip   string // a dependency that failed
	audit  bool
	dur    time.Duration
}

// stageMin is the pass size from which file writes are staged (stage.go).
const stageMin = 64

// parallelism bounds resources converging at once: they mostly wait on
// the disk (fsync), and concurrent fsyncs share journal commits.
func parallelism() int { return max(16, 4*runtime.GOMAXPROCS(0)) }

// converge applies (or, dry, checks) the dirty resources in dependency
// order, independent ones in parallel; a resource whose dependency failed is
// skipped. Then it refreshes each notified target once, in graph order:
// after all changes of this pass, so a service that reads several changed
// files restarts on the full new set.
func (e *Engine) converge(ctx context.Context, p *plan, dirty map[string]cause, dry bool, trigger string) *Report {
	return e.convergeLane(ctx, p, dirty, dry, trigger, lane{})
}

// lane says how a pass treats exec refreshes: the loop's own passes hand
// them to the background (deferExec), a background pass starts with the
// refreshes handed to it (notified).
type lane struct {
	deferExec map[string][]string // exec target -> notified by; nil: run them now
	notified  map[string][]string
}

func (e *Engine) convergeLane(ctx context.Context, p *plan, dirty map[string]cause, dry bool, trigger string, ln lane) *Report {
	start := time.Now()
	rep := &Report{Time: start, DryRun: dry, Trigger: trigger}
	set := make(map[string]bool, len(dirty))
	for id := range dirty {
		if p.res[id] != nil {
			set[id] = true
		}
	}
	passCtx, closeDirs := withDirCache(ctx)
	outs := e.schedule(passCtx, p, set, dry)
	closeDirs()
	if !dry {
		e.noteOutcomes(p, outs)
	}
	if err := e.env.dirs.flush(); err != nil {
		e.log.Error("cm: sync directories", "err", err)
	}
	notified := map[string][]string{} // target -> the resources that changed
	for id, by := range ln.notified {
		notified[id] = append(notified[id], by...)
	}
	for _, o := range outs {
		c := Change{Resource: o.id, From: p.from[o.id], Duration: o.dur, Deltas: o.deltas, What: deltaStrings(o.deltas), Diff: o.diff}
		switch {
		case o.skip != "":
			rep.Skipped++
			c.Result, c.Err = "skipped", "dependency "+o.skip+" failed"
		case o.err != nil:
			rep.Failed++
			c.Result, c.Err = "failed", o.err.Error()
			e.log.Error("cm: resource failed", "resource", o.id, "err", o.err)
			if !dry {
				e.stats.count(c.Result)
				e.emit(event.Event{Time: time.Now(), Resource: o.id, State: "failed", Message: o.err.Error()})
			}
		case len(o.deltas) == 0:
			rep.Unchanged++
			continue
		case o.audit:
			rep.Drifted++
			c.Result = "drift"
			e.emit(event.Event{Time: time.Now(), Resource: o.id, State: "drift",
				Message: strings.Join(c.What, ", "), Fields: event.Fields{"changes": o.deltas}})
		default:
			c.Result = eventState(o.deltas, dirty[o.id])
			if dry {
				c.Result = "would change"
			}
			for _, n := range p.res[o.id].Notifies() {
				notified[n] = append(notified[n], o.id)
			}
			if !dry {
				e.stats.count(c.Result)
				e.log.Info("cm: "+c.Result, "resource", o.id, "what", c.What)
				e.emit(event.Event{
					Time: time.Now(), Resource: o.id, State: c.Result,
					Message: strings.Join(c.What, ", "),
					Fields:  event.Fields{"changes": o.deltas},
				})
			}
		}
		rep.Changes = append(rep.Changes, c)
	}
	started := map[string]bool{}
	for _, o := range outs {
		if restarts(p.res[o.id]) && o.err == nil && len(o.deltas) > 0 && !o.audit {
			started[o.id] = true
		}
	}
	e.refresh(ctx, p, notified, started, dry, rep, ln.deferExec)
	rep.Duration = time.Since(start)
	e.stats.record(rep)
	return rep
}

// schedule runs the set with Kahn's algorithm over the dirty dependencies,
// at most parallelism() at a time, and returns outcomes in graph order.
func (e *Engine) schedule(ctx context.Context, p *plan, set map[string]bool, dry bool) []*outcome {
	deps := p.g.dirtyDeps(set)
	waiting := make(map[string]int, len(set))
	dependents := map[string][]string{}
	var ready []string
	for id := range set {
		waiting[id] = len(deps[id])
		for _, d := range deps[id] {
			dependents[d] = append(dependents[d], id)
		}
		if waiting[id] == 0 {
			ready = append(ready, id)
		}
	}
	// Batch durability when many files are written in one pass (a first
	// apply); a handful (a drift repair) is written the direct way.
	var st *stager
	if !dry && len(set) >= stageMin {
		st = newStager()
	}
	// byPos orders the ready ids: graph order, and in a staged pass
	// interleaved by directory (interleave.go).
	byPos := func(ids []string) {
		sort.Slice(ids, func(i, j int) bool { return p.g.pos[ids[i]] < p.g.pos[ids[j]] })
		if st != nil {
			copy(ids, interleaveDirs(p, ids))
		}
	}
	byPos(ready)
	results := make(map[string]*outcome, len(set))
	// Staged writes do not wait on the disk: one worker per CPU is enough,
	// more would only add scheduling.
	limit := parallelism()
	if st != nil {
		limit = runtime.GOMAXPROCS(0)
	}
	run := func(id string) *outcome {
		c := ctx
		if st != nil && len(dependents[id]) == 0 {
			c = withStager(ctx, st)
		}
		return e.runOne(c, p, id, dry)
	}
	failed := func(id string) string {
		for _, d := range deps[id] {
			if o := results[d]; o.err != nil || o.skip != "" {
				return d
			}
		}
		return ""
	}
	// Workers, up to limit, each running resource after resource: a
	// goroutine a resource grew a fresh stack for every one (a tenth of a
	// no-op pass over 1,000 files). A worker is started when every one is
	// busy, so a send on work always finds one free.
	done := make(chan *outcome)
	work := make(chan string)
	defer close(work)
	inflight, workers := 0, 0
	for len(results) < len(set) {
		for inflight < limit && len(ready) > 0 {
			id := ready[0]
			ready = ready[1:]
			if d := failed(id); d != "" || ctx.Err() != nil {
				o := &outcome{id: id, skip: d}
				if d == "" {
					o.err = ctx.Err()
				}
				results[id] = o
				ready = e.release(id, dependents, waiting, ready, byPos)
				continue
			}
			inflight++
			if len(set) == 1 {
				results[id] = run(id)
				inflight--
				ready = e.release(id, dependents, waiting, ready, byPos)
				continue
			}
			if workers < inflight {
				workers++
				go func() {
					for id := range work {
						done <- run(id)
					}
				}()
			}
			work <- id
		}
		if inflight == 0 {
			if len(ready) == 0 && len(results) < len(set) {
				e.log.Error("cm: scheduler stalled; graph inconsistent") // cannot happen: the graph is acyclic
				break
			}
			continue
		}
		o := <-done
		inflight--
		results[o.id] = o
		ready = e.release(o.id, dependents, waiting, ready, byPos)
	}
	if st != nil {
		for id, err := range st.commit() {
			results[id].deltas, results[id].err = nil, err
		}
	}
	out := make([]*outcome, 0, len(results))
	for _, o := range results {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return p.g.pos[out[i].id] < p.g.pos[out[j].id] })
	return out
}

func (e *Engine) release(id string, dependents map[string][]string, waiting map[string]int, ready []string, byPos func([]string)) []string {
	n := len(ready)
	for _, s := range dependents[id] {
		if waiting[s]--; waiting[s] == 0 {
			ready = append(ready, s)
		}
	}
	if len(ready) > n {
		byPos(ready)
	}
	return ready
}

// runOne checks or applies one resource; a panic in it becomes its error.
func (e *Engine) runOne(ctx context.Context, p *plan, id string, dry bool) (o *outcome) {
	r := p.res[id]
	o = &outcome{id: id, audit: p.audit[id]}
	start := time.Now()
	defer func() {
		if v := recover(); v != nil {
			e.log.Error("cm: panic in resource", "resource", id, "panic", v, "stack", string(debug.Stack()))
			o.deltas, o.err = nil, fmt.Errorf("panic: %v", v)
		}
		o.dur = time.Since(start)
	}()
	if dry || o.audit {
		o.deltas, o.err = r.Check(ctx)
		if dry && o.err == nil && len(o.deltas) > 0 {
			if df, ok := r.(differ); ok {
				o.diff, _ = df.Diff(ctx)
			}
		}
		return o
	}
	o.deltas, o.err = r.Apply(ctx)
	return o
}

func eventState(what []Delta, c cause) string {
	switch {
	case slices.ContainsFunc(what, func(d Delta) bool { return d.Attr == whatRemoved }):
		return "removed"
	case c == causeConfig:
		return "changed"
	}
	return "repaired"
}

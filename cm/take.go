package cm

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/event"
)

func (e *Engine) build(cfg *config.Config) (*plan, error) {
	p, err := buildPlan(cfg, e.env)
	if err != nil {
		return nil, err
	}
	if e.wrap != nil {
		for id, r := range p.res {
			p.res[id] = e.wrap(r)
		}
	}
	return p, nil
}

// takeConfig diffs the pending config against the loaded one: new and
// changed resources become dirty, unchanged ones are not even looked at,
// removed ones are forgotten (left in place, unwatched) unless they say
// purge. A config whose graph has a cycle is rejected as a whole.
func (e *Engine) takeConfig(ctx context.Context, w *watcher) {
	e.mu.Lock()
	cfg := e.pending
	e.pending = nil
	e.mu.Unlock()
	if cfg == nil {
		return
	}
	if !e.env.factsFixed {
		e.env.facts.Store(gatherFacts(cfg, e.env.platformFacts))
	}
	factsJSON, _ := json.Marshal(e.env.facts.Load())
	factsChanged := e.facts != "" && e.facts != string(factsJSON)
	next, err := e.build(cfg)
	if err != nil {
		e.ConfigError(err)
		return
	}
	e.mu.Lock()
	hadErr := e.cfgErr != ""
	e.cfgErr = ""
	e.mu.Unlock()
	if hadErr {
		e.log.Info("cm: config valid again")
		e.emit(event.Event{Time: time.Now(), Resource: "config", State: "valid"})
		e.saveReport(&Report{Time: time.Now(), Trigger: "config"})
	}
	e.facts = string(factsJSON)
	old := e.plan
	for id, r := range next.res {
		o, ok := old.res[id]
		if ok && o.Same(r) && old.audit[id] == next.audit[id] {
			if factsChanged && readsFacts(r) {
				e.mark(id, causeConfig)
			}
			next.res[id] = o // keep the old value: same desired state, same watches
			continue
		}
		if ok {
			e.rewatch(w, o, r)
		} else {
			e.watch(w, r)
		}
		e.mark(id, causeConfig)
	}
	var removed []string
	for _, id := range slices.Sorted(maps.Keys(old.res)) {
		if _, ok := next.res[id]; ok {
			continue
		}
		e.unwatch(w, old.res[id])
		delete(e.dirty, id)
		delete(e.deferred, id)
		delete(e.retries, id)
		e.fights.forget(id)
		if old.purge[id] {
			removed = append(removed, id)
		} else {
			e.log.Info("cm: resource removed from config; left in place", "resource", id)
		}
	}
	e.plan = next
	e.stats.plan(next)
	e.purge(ctx, old, removed)
}

// purge removes from the system what left the config with purge = true.
func (e *Engine) purge(ctx context.Context, old *plan, ids []string) {
	if len(ids) == 0 {
		return
	}
	rep := &Report{Time: time.Now(), Trigger: "config"}
	for _, id := range ids {
		pr, ok := old.res[id].(purger)
		if !ok {
			e.log.Warn("cm: cannot purge this kind; left in place", "resource", id)
			continue
		}
		what, err := pr.Purge(ctx)
		c := Change{Resource: id, Result: "purged", Deltas: what, What: deltaStrings(what)}
		if err != nil {
			c.Result, c.Err = "failed", err.Error()
			rep.Failed++
		}
		rep.Changes = append(rep.Changes, c)
		e.emit(event.Event{Time: time.Now(), Resource: id, State: c.Result, Message: c.Err})
	}
	e.saveReport(rep)
}

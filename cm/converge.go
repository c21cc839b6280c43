package cm

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"time"

	"unit/config"
	"unit/event"
)

// converge applies (or, dry, checks) the resources ids in order, then
// restarts each notified service once: after all changes of this pass, so a
// service that reads several changed files restarts on the full new set.
// One failing resource does not stop the others.
func (e *Engine) converge(ctx context.Context, res map[string]Resource, ids []string, causeOf func(string) cause, dry bool) *Report {
	start := time.Now()
	rep := &Report{DryRun: dry}
	notified := map[string][]string{} // service id -> the resources that changed
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		r := res[id]
		what, err := e.runOne(ctx, r, dry)
		switch {
		case err != nil:
			rep.Failed++
			rep.Changes = append(rep.Changes, Change{Resource: id, What: what, Err: err.Error()})
			e.log.Error("cm: resource failed", "resource", id, "err", err)
			if !dry {
				e.emit(event.Event{Time: time.Now(), Resource: id, State: "failed", Message: err.Error()})
			}
		case len(what) == 0:
			rep.Unchanged++
		default:
			rep.Changes = append(rep.Changes, Change{Resource: id, What: what})
			for _, n := range r.Notifies() {
				notified[n] = append(notified[n], id)
			}
			if !dry {
				state := eventState(what, causeOf(id))
				e.log.Info("cm: "+state, "resource", id, "what", what)
				e.emit(event.Event{
					Time: time.Now(), Resource: id, State: state,
					Message: strings.Join(what, ", "),
					Fields:  event.Fields{"changes": what},
				})
			}
		}
	}
	e.restart(ctx, notified, dry, rep)
	rep.Duration = time.Since(start)
	return rep
}

// runOne checks or applies one resource; a panic in it becomes its error.
func (e *Engine) runOne(ctx context.Context, r Resource, dry bool) (what []string, err error) {
	defer func() {
		if p := recover(); p != nil {
			e.log.Error("cm: panic in resource", "resource", r.ID(), "panic", p, "stack", string(debug.Stack()))
			what, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	if dry {
		return r.Check(ctx)
	}
	return r.Apply(ctx)
}

func eventState(what []string, c cause) string {
	switch {
	case slices.Contains(what, whatRemoved):
		return "removed"
	case c == causeConfig:
		return "changed"
	}
	return "repaired"
}

// restart restarts every notified service once, in sorted order.
func (e *Engine) restart(ctx context.Context, notified map[string][]string, dry bool, rep *Report) {
	ids := make([]string, 0, len(notified))
	for id := range notified {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		by := strings.Join(notified[id], ", ")
		name, ok := strings.CutPrefix(id, "service:")
		switch {
		case !ok:
			e.log.Warn("cm: cannot notify a non-service", "resource", id, "by", by)
		case dry:
			rep.Changes = append(rep.Changes, Change{Resource: id, What: []string{"restart (notified by " + by + ")"}})
		case e.svc == nil:
			e.log.Warn("cm: no supervisor; not restarting", "service", name, "notified by", by)
		default:
			if err := e.restartOne(ctx, name); err != nil {
				rep.Failed++
				rep.Changes = append(rep.Changes, Change{Resource: id, Err: err.Error()})
				e.log.Error("cm: restart failed", "service", name, "err", err)
				e.emit(event.Event{Time: time.Now(), Resource: id, State: "failed", Message: err.Error()})
				continue
			}
			rep.Changes = append(rep.Changes, Change{Resource: id, What: []string{"restarted (notified by " + by + ")"}})
			e.log.Info("cm: restarted", "service", name, "notified by", by)
		}
	}
}

func (e *Engine) restartOne(ctx context.Context, name string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	if err := e.svc.Restart(ctx, name); err != nil {
		return fmt.Errorf("restart %s: %w", name, err)
	}
	return nil
}

// convergeDirty converges the dirty set, then re-adds watches on
// directories that convergence created; their files are checked once more
// since anything in them before the watch existed went unseen. The second
// round adds no new watches unless a directory appeared meanwhile, so this
// ends.
func (e *Engine) convergeDirty(ctx context.Context, w *watcher) {
	for round := 0; len(e.dirty) > 0 && round < 3; round++ {
		dirty := e.dirty
		e.dirty = map[string]cause{}
		ids := make([]string, 0, len(dirty))
		for id := range dirty {
			if _, ok := e.res[id]; ok {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
		rep := e.converge(ctx, e.res, ids, func(id string) cause { return dirty[id] }, false)
		if len(rep.Changes) > 0 {
			e.log.Info("cm: converged", "changed", rep.Changed(), "failed", rep.Failed, "took", rep.Duration)
		}
		for _, dir := range w.retry() {
			e.markDir(dir)
		}
	}
}

// applyAll converges (or, dry, checks) every resource.
func (e *Engine) applyAll(ctx context.Context, w *watcher, dry bool) *Report {
	ids := make([]string, 0, len(e.res))
	for id := range e.res {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	causeOf := func(id string) cause {
		if c := e.dirty[id]; c != 0 {
			return c
		}
		return causeDrift
	}
	rep := e.converge(ctx, e.res, ids, causeOf, dry)
	if !dry {
		e.dirty = map[string]cause{}
		for _, dir := range w.retry() {
			e.markDir(dir)
		}
		e.convergeDirty(ctx, w)
	}
	return rep
}

// ApplyOnce converges every resource of cfg once, without watching: the
// `unit apply --once` mode. With dryRun it changes nothing and reports what
// it would change. Resource failures are in the report; the error is for
// a missing config or a cancelled ctx.
func ApplyOnce(ctx context.Context, cfg *config.Config, dryRun bool, opts ...Option) (*Report, error) {
	if cfg == nil {
		return nil, errors.New("cm: no config")
	}
	e := New(opts...)
	res := e.build(cfg)
	ids := make([]string, 0, len(res))
	for id := range res {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	rep := e.converge(ctx, res, ids, func(string) cause { return causeConfig }, dryRun)
	return rep, ctx.Err()
}

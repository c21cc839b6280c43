package cm

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/unit-os/unit/event"
)

// refresh runs each notified target once, in graph order; a target that
// changes (an exec that ran) may notify further targets, which come later
// in the order.
// A service started in this very pass already runs on the new state: it
// is not restarted again.
func (e *Engine) refresh(ctx context.Context, p *plan, notified map[string][]string, started map[string]bool, dry bool, rep *Report, deferExec map[string][]string) {
	pos := func(id string) int {
		if i, ok := p.g.pos[id]; ok {
			return i
		}
		return len(p.g.order) // unconfigured targets (a bare service name) last
	}
	doneSet := map[string]bool{}
	for {
		var next string
		for id := range notified {
			if !doneSet[id] && (next == "" || pos(id) < pos(next) || pos(id) == pos(next) && id < next) {
				next = id
			}
		}
		if next == "" {
			return
		}
		doneSet[next] = true
		by := strings.Join(sortedSet(notified[next]), ", ")
		r := p.res[next]
		if r == nil {
			r = bareTarget(next, e.env)
		}
		rf, ok := r.(refresher)
		switch {
		case started[next]:
			e.log.Info("cm: not restarting a service started in this pass", "resource", next, "notified by", by)
		case !ok:
			e.log.Warn("cm: cannot notify", "resource", next, "by", by)
		case deferExec != nil && runsLong(r) && !dry && !p.audit[next]:
			// A command may run for minutes: the background runs it.
			deferExec[next] = append(deferExec[next], notified[next]...)
		case dry || p.audit[next]:
			verb := "run"
			if restarts(r) {
				verb = "restart"
			}
			rep.Changes = append(rep.Changes, Change{Resource: next, Result: "would refresh", What: []string{verb + " (notified by " + by + ")"}})
		default:
			start := time.Now()
			what, err := e.safeRefresh(ctx, rf)
			c := Change{Resource: next, Duration: time.Since(start), Deltas: what}
			if err != nil {
				rep.Failed++
				c.Result, c.Err = "failed", err.Error()
				e.log.Error("cm: refresh failed", "resource", next, "err", err)
				e.stats.count(c.Result)
				e.emit(event.Event{Time: time.Now(), Resource: next, State: "failed", Message: err.Error()})
				rep.Changes = append(rep.Changes, c)
				continue
			}
			if len(what) == 0 {
				continue
			}
			word := "ran"
			if restarts(r) {
				word = "restarted"
			}
			c.Result, c.What = "refreshed", []string{word + " (notified by " + by + ")"}
			rep.Changes = append(rep.Changes, c)
			e.stats.count(c.Result)
			e.log.Info("cm: "+word, "resource", next, "notified by", by)
			if !restarts(r) {
				e.emit(event.Event{Time: time.Now(), Resource: next, State: "refreshed", Message: c.What[0]})
				if pr := p.res[next]; pr != nil {
					for _, n := range pr.Notifies() {
						notified[n] = append(notified[n], next)
					}
				}
			}
		}
	}
}

func (e *Engine) safeRefresh(ctx context.Context, r refresher) (what []Delta, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return r.Refresh(ctx)
}

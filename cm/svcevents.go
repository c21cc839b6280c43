package cm

import (
	"context"
	"strings"

	"github.com/unit-os/unit/event"
)

// ServiceEvent tells the engine a service changed state (the daemon
// forwards the supervisor's events). When one becomes running (or, for a
// one-shot, done), what requires it is converged again: an exec that
// initialises a database once the database is up, a file that failed
// because the service had not yet created its directory. Never blocks;
// events that arrive together are handled in one pass.
func (e *Engine) ServiceEvent(name, state string) {
	if state != "running" && state != "done" {
		return
	}
	e.mu.Lock()
	if e.svcUp == nil {
		e.svcUp = map[string]bool{}
	}
	e.svcUp[name] = true
	e.mu.Unlock()
	select {
	case e.svcC <- struct{}{}:
	default:
	}
}

// takeServiceEvents marks the dependents of services that came up.
func (e *Engine) takeServiceEvents() {
	e.mu.Lock()
	up := e.svcUp
	e.svcUp = nil
	e.mu.Unlock()
	for name := range up {
		for _, id := range e.plan.g.succs["service:"+name] {
			e.mark(id, causeDrift)
		}
	}
}

// ForwardServiceEvents feeds ServiceEvent from an event stream until ctx
// ends or the stream closes (the daemon passes its bus subscription).
func (e *Engine) ForwardServiceEvents(ctx context.Context, events <-chan event.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			if name, ok := strings.CutPrefix(ev.Resource, "service:"); ok {
				e.ServiceEvent(name, ev.State)
			}
		}
	}
}

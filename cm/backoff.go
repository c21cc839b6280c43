package cm

import (
	"time"

	"github.com/unit-os/unit/event"
)

// The engine's one timer: a fighting resource's repairs and a failed
// retrier's retries wait for their backoff (fight.go, retry.go), and the
// timer, armed only while one waits, wakes the loop when the earliest ends.

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

func eventFight(f Fight) event.Event {
	return event.Event{Time: time.Now(), Resource: f.Resource, State: "fight", Message: f.String(),
		Fields: event.Fields{"repairs": f.Repairs, "backoff": f.Backoff.String()}}
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

// wakeDeferred marks the deferred resources whose backoff ended (the
// timer fired) and arms the timer for the rest.
func (e *Engine) wakeDeferred(now time.Time) {
	for id, c := range e.deferred {
		if until, ok := e.retryAt(id); ok && now.Before(until) {
			continue // woken for another one
		}
		e.mark(id, c)
		delete(e.deferred, id)
	}
	e.armBackoffTimer(now)
}

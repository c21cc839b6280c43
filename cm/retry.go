package cm

import "time"

// Retries of failed retriers (net resources). A file that cannot be written is tried
// again when something it depends on changes (inotify says so); a DHCP
// server that did not answer, or a link that refused an address, comes
// back without telling us. So a failed retrier is tried again after
// a backoff, doubling from retryMinBackoff to retryMaxBackoff, until it
// succeeds; an rtnetlink event in between tries it at once. This is the
// only timer the engine keeps besides a fight's backoff, and it runs only
// while something is failing.
const (
	retryMinBackoff = time.Second
	retryMaxBackoff = time.Minute
)

type retryState struct {
	backoff time.Duration
	until   time.Time
}

// retries is owned by the Run goroutine.
type retries map[string]*retryState

// noteRetries schedules the failed retriable resources of a pass and
// forgets the ones that converged.
func (e *Engine) noteRetries(rep *Report, dirty map[string]cause, now time.Time) {
	retriable := func(id string) bool { return retried(e.plan.res[id]) }
	failed := map[string]bool{}
	for _, c := range rep.Changes {
		if c.Result == "failed" && retriable(c.Resource) {
			failed[c.Resource] = true
		}
	}
	for id := range dirty {
		if !retriable(id) {
			continue
		}
		if !failed[id] {
			if _, fighting := e.fights.blocked(id, now); !fighting {
				delete(e.deferred, id)
			}
			delete(e.retries, id)
			continue
		}
		s := e.retries[id]
		if s == nil {
			s = &retryState{}
			e.retries[id] = s
		}
		s.backoff = min(max(s.backoff*2, retryMinBackoff), retryMaxBackoff)
		s.until = now.Add(s.backoff)
		e.deferred[id] = causeDrift
	}
}

// retryAt is when id's retry is due, if one is pending.
func (e *Engine) retryAt(id string) (time.Time, bool) {
	s := e.retries[id]
	if s == nil {
		return time.Time{}, false
	}
	return s.until, true
}

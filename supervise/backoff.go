package supervise

import "time"

// Backoff decides how long to wait before restarting a crashed service.
// The first crash after a stable run restarts at once (a daemon that ran for
// a day and crashed should be back in milliseconds, not seconds); repeated
// crashes back off exponentially up to Max; after Limit unstable exits in a
// row the service is failed until someone starts it again.
type Backoff struct {
	Initial time.Duration // delay after the second unstable exit
	Max     time.Duration
	Stable  time.Duration // a run this long resets the count
	Limit   int           // unstable exits in a row before giving up; 0 = never
}

// DefaultBackoff is 100ms doubling to 30s, stable after 10s, fail after 10.
func DefaultBackoff() Backoff {
	return Backoff{Initial: 100 * time.Millisecond, Max: 30 * time.Second, Stable: 10 * time.Second, Limit: 10}
}

// next records an exit after ranFor and returns the delay before the
// restart, or giveUp.
func (b Backoff) next(v *service, ranFor time.Duration) (delay time.Duration, giveUp bool) {
	if ranFor >= b.Stable {
		v.restarts = 0
	}
	v.restarts++
	if b.Limit > 0 && v.restarts > b.Limit {
		return 0, true
	}
	if v.restarts == 1 {
		return 0, false
	}
	delay = b.Initial
	for i := 2; i < v.restarts && delay < b.Max; i++ {
		delay *= 2
	}
	return min(delay, b.Max), false
}

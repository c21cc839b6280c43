package supervise

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// A service that becomes ready after n is seen within
// min(n/2 + 5 ms, 50 ms) of it (plus the probe's own run, nil here), on
// synctest's clock: the overshoot a requires chain pays per link.
func TestPollReadyOvershootIsBounded(t *testing.T) {
	for n := time.Duration(0); n <= 3*time.Second; n += 7 * time.Millisecond {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			var seen time.Duration
			pollReady(context.Background(), func() { seen = time.Since(start) },
				func() bool { return time.Since(start) >= n })
			bound := min(n/2+5*time.Millisecond, 50*time.Millisecond)
			if seen < n || seen-n > bound {
				t.Errorf("ready after %v seen after %v: overshoot %v, over %v", n, seen, seen-n, bound)
			}
		})
	}
}

// A slow start is probed about once per 50 ms, not more.
func TestPollReadyProbesASlowStartSparingly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		calls := 0
		pollReady(context.Background(), func() {}, func() bool {
			calls++
			return time.Since(start) >= 10*time.Second
		})
		if calls > int(10*time.Second/(50*time.Millisecond))+10 {
			t.Errorf("%d probes in 10 s", calls)
		}
	})
}

// Cancelling the start (a stop, a restart) ends the polling.
func TestPollReadyEndsWithItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			pollReady(ctx, func() { t.Error("ready without a check succeeding") }, func() bool { return false })
		}()
		synctest.Wait() // pollReady waits between two tries
		cancel()
		<-done
	})
}

package supervise

import "time"

// timerSlot is a timer beside the service's main one (watchdog, health):
// its callback runs on the loop, and only if the slot was not disarmed or
// re-armed in the meantime.
type timerSlot struct {
	t   *time.Timer
	seq int
}

func (s *Supervisor) armSlot(ts *timerSlot, d time.Duration, f func()) {
	s.disarmSlot(ts)
	seq := ts.seq
	ts.t = time.AfterFunc(d, func() {
		s.post(func() {
			if ts.seq == seq {
				ts.t = nil
				f()
			}
		})
	})
}

func (s *Supervisor) disarmSlot(ts *timerSlot) {
	ts.seq++
	if ts.t != nil {
		ts.t.Stop()
		ts.t = nil
	}
}

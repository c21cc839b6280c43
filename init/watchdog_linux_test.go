package pid1

import (
	"testing"
	"time"
)

func TestWatchdogTimeoutFrom(t *testing.T) {
	for _, c := range []struct {
		cmdline string
		want    time.Duration
		bad     bool
	}{
		{"console=ttyS0 panic=-1", watchdogTimeout, false},
		{"console=ttyS0 unit.watchdog=3", 3 * time.Second, false},
		{"unit.watchdog=10s quiet", 10 * time.Second, false},
		{"unit.watchdog=2m", 2 * time.Minute, false},
		{"unit.watchdog=0", watchdogTimeout, true},
		{"unit.watchdog=1500ms", watchdogTimeout, true},
		{"unit.watchdog=soon", watchdogTimeout, true},
		{"xunit.watchdog=3", watchdogTimeout, false},
	} {
		got, err := watchdogTimeoutFrom(c.cmdline)
		if got != c.want || (err != nil) != c.bad {
			t.Errorf("%q: %s, %v; want %s (error: %v)", c.cmdline, got, err, c.want, c.bad)
		}
	}
}

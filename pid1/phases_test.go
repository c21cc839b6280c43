package pid1

import (
	"testing"
	"time"
)

// Each step is timed from the end of the one before.
func TestPhases(t *testing.T) {
	now := 100 * time.Millisecond
	p := newPhases(func() time.Duration { return now })
	now += 3 * time.Millisecond
	p.done("mounts")
	now += 250 * time.Millisecond
	p.done("devices")
	if got, want := p.String(), "mounts 3 ms, devices 250 ms"; got != want {
		t.Errorf("phases %q, want %q", got, want)
	}
}

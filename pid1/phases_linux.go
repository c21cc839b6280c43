package pid1

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// bootTime is the kernel's clock since boot (CLOCK_BOOTTIME, what
// /proc/uptime shows in hundredths), to the nanosecond: the boot's phases
// are tens of milliseconds.
func bootTime() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// phases times the boot's steps on the kernel's clock, so that the line
// it makes says where the time between /init and the services went.
type phases struct {
	clock func() time.Duration
	last  time.Duration
	marks []string
}

func newPhases(clock func() time.Duration) *phases {
	return &phases{clock: clock, last: clock()}
}

// done ends the step named name at now.
func (p *phases) done(name string) {
	now := p.clock()
	p.marks = append(p.marks, fmt.Sprintf("%s %d ms", name, (now-p.last).Milliseconds()))
	p.last = now
}

// String lists the steps in order, e.g. "mounts 3 ms, config 20 ms".
func (p *phases) String() string { return strings.Join(p.marks, ", ") }

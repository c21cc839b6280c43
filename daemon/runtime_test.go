package daemon

import (
	"io"
	"log/slog"
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestLimitFor(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		s    heapSample
		want int64
	}{
		{heapSample{live: 0, nonHeap: 2 * mib}, 2*mib + 4*mib + mib},               // before the first cycle: the 4 MiB floor
		{heapSample{live: 1 * mib, nonHeap: 2 * mib}, 2*mib + 4*mib + mib},         // a small heap: the floor
		{heapSample{live: 10 * mib, nonHeap: 3 * mib}, 3*mib + 20*mib + 20*mib/16}, // doubled, as GOGC=100
		{heapSample{live: 64 * mib, nonHeap: 4 * mib}, 4*mib + 128*mib + 8*mib},
		{heapSample{live: math.MaxUint64 / 2, nonHeap: 0}, math.MaxInt64},
	} {
		if got := limitFor(c.s); got != c.want {
			t.Errorf("limitFor(%+v) = %d, want %d", c.s, got, c.want)
		}
	}
}

func gcPercent() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}

// TestTuneRuntimeApplies: GOGC is off and a memory limit that follows the
// live heap is set, again after every collection, and restore undoes it.
func TestTuneRuntimeApplies(t *testing.T) {
	beforePercent, beforeLimit := gcPercent(), debug.SetMemoryLimit(-1)
	limits := make(chan int64, 16)
	restore := tuneRuntime(slog.New(slog.NewTextHandler(io.Discard, nil)), func(string) string { return "" },
		func(l int64) {
			select {
			case limits <- l:
			default:
			}
		})
	first := <-limits // set at once, before any collection
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Errorf("GOGC = %d while tuned, want -1 (off)", p)
	}
	if got := debug.SetMemoryLimit(-1); got != first {
		t.Errorf("memory limit %d, want the pacer's %d", got, first)
	}
	if first < minHeapGoal || first == math.MaxInt64 {
		t.Errorf("first limit %d: want at least the %d heap floor and not unlimited", first, minHeapGoal)
	}
	// Each collection sets the limit again (the pacer re-arms itself).
	for i := range 2 {
		runtime.GC()
		select {
		case l := <-limits:
			if l < minHeapGoal || l == math.MaxInt64 {
				t.Errorf("limit after collection %d: %d", i, l)
			}
		case <-time.After(time.Minute): // a hang guard, not a timing assertion
			t.Fatalf("no limit set after collection %d", i)
		}
	}
	restore()
	if p, l := gcPercent(), debug.SetMemoryLimit(-1); p != beforePercent || l != beforeLimit {
		t.Errorf("after restore: GOGC %d, limit %d; want %d, %d", p, l, beforePercent, beforeLimit)
	}
	// A cleanup still pending from the last collection sets nothing.
	stopped := &gcPacer{stopped: true, onLimit: func(int64) { t.Error("a stopped pacer set a limit") }}
	stopped.afterGC()
	if l := debug.SetMemoryLimit(-1); l != beforeLimit {
		t.Errorf("limit %d after a stopped pacer's cleanup, want %d", l, beforeLimit)
	}
}

// TestTuneRuntimeKeepsEnvironment: a user's GOGC or GOMEMLIMIT wins, and
// a second daemon in the process leaves the first one's settings alone.
func TestTuneRuntimeKeepsEnvironment(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	beforePercent, beforeLimit := gcPercent(), debug.SetMemoryLimit(-1)
	for _, env := range []map[string]string{{"GOGC": "50"}, {"GOMEMLIMIT": "100MiB"}} {
		restore := tuneRuntime(log, func(k string) string { return env[k] }, nil)
		if p, l := gcPercent(), debug.SetMemoryLimit(-1); p != beforePercent || l != beforeLimit {
			t.Errorf("with %v: GOGC %d, limit %d; want them untouched (%d, %d)", env, p, l, beforePercent, beforeLimit)
		}
		restore()
	}
	restore := tuneRuntime(log, func(string) string { return "" }, nil)
	defer restore()
	tunedLimit := debug.SetMemoryLimit(-1)
	second := tuneRuntime(log, func(string) string { return "" }, nil)
	second()
	if p, l := gcPercent(), debug.SetMemoryLimit(-1); p != -1 || l != tunedLimit {
		t.Errorf("a second daemon's restore changed the first's settings: GOGC %d, limit %d", p, l)
	}
}

package daemon

import (
	"log/slog"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// The Go runtime's collector as a daemon that should sleep when nothing
// happens wants it. By default the runtime forces a collection when none
// ran for 2 minutes (forcegcperiod), even in a process that allocated
// nothing since: each such cycle wakes the mark workers and the sweeper,
// 10–15 context switches, which made an idle `unit run` with 100
// services switch 7–8 times a minute instead of 2–3 (bench/idle.sh, 5
// minutes). unit makes garbage only when something happens (a client
// call, a service's exit, a cm pass), so a clock collects nothing that
// waiting for the next allocation would not.
//
// tuneRuntime therefore turns the proportional collector off (GOGC=off,
// which also disables the forced cycle) and paces collections with a
// memory limit instead, set after each cycle to what GOGC=100 would
// allow: the live heap doubled, at least minHeapGoal, plus the runtime's
// non-heap memory (stacks, metadata) and headroom. The heap can therefore
// not grow without bound (a limit follows the live heap, as GOGC does),
// and unit's explicit debug.FreeOSMemory calls (after cm passes and large
// replies) still collect at once. The limit is soft: the runtime never
// fails an allocation because of it, so PID 1 cannot die of it. What
// remains is sysmon's own sleep of at most 60 s (forcegcperiod/2, 2
// context switches a minute), which the runtime offers no way to change.
//
// A GOGC or GOMEMLIMIT in the environment (a host's unit run, or PID 1's
// from the kernel command line) is the user's choice and is kept.

// minHeapGoal is the smallest heap the pacer lets grow before a
// collection: the runtime's own floor at GOGC=100 (heapMinimum).
const minHeapGoal = 4 << 20

// limitHeadroom is added to the heap goal so that the runtime, which keeps
// 3 % of a limit's heap part (at least 1 MiB) back for pacing errors,
// aims at no less than the goal.
func limitHeadroom(goal uint64) uint64 { return max(1<<20, goal/16) }

// tuned is set while a tuneRuntime's settings are in force: GC settings
// are the process's, so a second daemon in the same process (tests) must
// neither apply them again nor restore them under the first.
var tuned atomic.Bool

// heapSample is what the pacer reads after a cycle.
type heapSample struct {
	live    uint64 // bytes marked live by the last cycle (0 before the first)
	nonHeap uint64 // mapped, unreleased memory that is not heap: stacks, metadata, span waste
}

// limitFor is the memory limit that lets the heap grow as GOGC=100 would.
func limitFor(s heapSample) int64 {
	const most = math.MaxInt64 / 4 // no sum below can overflow
	if s.live > most || s.nonHeap > most {
		return math.MaxInt64
	}
	goal := max(minHeapGoal, 2*s.live)
	return int64(s.nonHeap + goal + limitHeadroom(goal))
}

var sampleNames = []string{
	"/gc/heap/live:bytes",
	"/memory/classes/total:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/released:bytes",
}

// readHeap samples the runtime's memory classes; nonHeap is defined as
// the runtime's memory-limit goal defines it (mapped and not released,
// minus free heap, minus heap objects).
func readHeap() heapSample {
	ss := make([]metrics.Sample, len(sampleNames))
	for i, n := range sampleNames {
		ss[i].Name = n
	}
	metrics.Read(ss)
	v := func(i int) uint64 {
		if ss[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return ss[i].Value.Uint64()
	}
	live, total, objects, free, released := v(0), v(1), v(2), v(3), v(4)
	var nonHeap uint64
	if used := objects + free + released; total > used {
		nonHeap = total - used
	}
	return heapSample{live: live, nonHeap: nonHeap}
}

// gcPacer sets the memory limit after every collection, from a cleanup
// that the collector itself runs: it costs no wake-up of its own.
type gcPacer struct {
	mu      sync.Mutex // orders a last update before restore's settings
	stopped bool
	onLimit func(int64) // called with each limit set (tests)
}

// gcSentinel is the object whose collection marks the end of a cycle; it
// holds a pointer so that the allocator never batches it with other
// small objects (which would delay its cleanup).
type gcSentinel struct{ _ *byte }

func (p *gcPacer) arm() {
	runtime.AddCleanup(&gcSentinel{}, (*gcPacer).afterGC, p)
}

// afterGC runs on the runtime's cleanup goroutine, where a panic would
// end the process, PID 1 included: should anything in it fail, the
// runtime's own pacing (GOGC=100) takes over for good.
func (p *gcPacer) afterGC() {
	defer func() {
		if recover() != nil {
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(math.MaxInt64)
		}
	}()
	p.update(true)
}

// update sets the limit unless the pacer was stopped. With rearm it first
// waits for the next cycle again, so that whoever hears of this limit
// (onLimit) and collects gets another one.
func (p *gcPacer) update(rearm bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	if rearm {
		p.arm()
	}
	l := limitFor(readHeap())
	debug.SetMemoryLimit(l)
	if p.onLimit != nil {
		p.onLimit(l)
	}
}

// tuneRuntime applies the settings above unless getenv has GOGC or
// GOMEMLIMIT, or another daemon in this process already did. The returned
// function restores what was there before (Run defers it).
func tuneRuntime(log *slog.Logger, getenv func(string) string, onLimit func(int64)) (restore func()) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		log.Info("runtime: GOGC/GOMEMLIMIT from the environment kept", "GOGC", getenv("GOGC"), "GOMEMLIMIT", getenv("GOMEMLIMIT"))
		return func() {}
	}
	if !tuned.CompareAndSwap(false, true) {
		return func() {}
	}
	p := &gcPacer{onLimit: onLimit}
	oldLimit := debug.SetMemoryLimit(-1)
	p.update(false)
	oldPercent := debug.SetGCPercent(-1)
	p.arm()
	log.Debug("runtime: collections paced by a memory limit, none on a clock", "limit", debug.SetMemoryLimit(-1))
	return func() {
		p.mu.Lock()
		p.stopped = true
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
		p.mu.Unlock()
		tuned.Store(false)
	}
}

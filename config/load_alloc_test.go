package config

import (
	"runtime"
	"testing"
)

// Loading a resource costs a few allocations, whatever the number of
// resources: no closures, ids, joined keys or sorted copies per resource
// beyond what the decoder makes, and no index of a valid file's key lines
// (35 a resource before; 12 with the index built).
func TestLoadAllocations(t *testing.T) {
	const n = 1000
	dir := filesConfig(t, n)
	allocs := testing.AllocsPerRun(3, func() {
		if _, err := Load(dir); err != nil {
			t.Fatal(err)
		}
	})
	if per := allocs / n; per > 10 {
		t.Errorf("%.0f allocations, %.1f a resource: want at most 10", allocs, per)
	}
}

// And a few hundred bytes more than the resource itself: the file is read
// into a buffer of its size, and the plan's and lines' slices are sized
// once (1.5 KB a resource when they grew, 3.4 KB before this work).
func TestLoadBytes(t *testing.T) {
	const n = 1000
	dir := filesConfig(t, n)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 3 {
		if _, err := Load(dir); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	// The race detector's shadow bookkeeping allocates too (1.59 KB a
	// resource under -race, as make test runs it): a bound of its own.
	limit := uint64(1300)
	if raceEnabled {
		limit = 1800
	}
	if per := (after.TotalAlloc - before.TotalAlloc) / 3 / n; per > limit {
		t.Errorf("%d bytes allocated a resource; want at most %d", per, limit)
	}
}

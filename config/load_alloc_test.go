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
	if per := (after.TotalAlloc - before.TotalAlloc) / 3 / n; per > 1300 {
		t.Errorf("%d bytes allocated a resource; want at most 1,300", per)
	}
}

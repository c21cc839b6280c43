package config

import "testing"

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

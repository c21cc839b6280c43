package config

import "testing"

// Loading a resource costs a dozen allocations, whatever the number of
// resources: no closures, ids, joined keys or sorted copies per resource
// beyond what the decoder makes (35 a resource before).
func TestLoadAllocations(t *testing.T) {
	const n = 1000
	dir := filesConfig(t, n)
	allocs := testing.AllocsPerRun(3, func() {
		if _, err := Load(dir); err != nil {
			t.Fatal(err)
		}
	})
	if per := allocs / n; per > 14 {
		t.Errorf("%.0f allocations, %.1f a resource: want at most 14", allocs, per)
	}
}

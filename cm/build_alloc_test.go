package cm

import (
	"testing"

	"github.com/unit-os/unit/config"
)

// The plan of a large config costs its resources and their graph, not
// work per file on the way: each file's ancestors are looked up once per
// directory, and its id without building strings; the ids' heap boxes
// none. unit apply --once builds it on every run.
func TestBuildPlanAllocations(t *testing.T) {
	const n = 1000
	cfg, err := config.Load(filesDir(t, n, "/srv/cm-alloc-test/with/a/deep/enough/root"))
	if err != nil {
		t.Fatal(err)
	}
	en := defaultEnv()
	allocs := testing.AllocsPerRun(3, func() {
		if _, err := buildPlan(cfg, en); err != nil {
			t.Fatal(err)
		}
	})
	if per := allocs / n; per > 6 {
		t.Errorf("%.0f allocations, %.1f a file: want at most 6 (23 before ancestors were cached)", allocs, per)
	}
}

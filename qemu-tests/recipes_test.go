package qemutests

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/unit-os/unit/pkgbuild"
)

// lockedRecipes copies ../packages (recipes and their committed locks) to
// dst and returns dst. Every test that builds from the committed locks
// goes through it, so none depends on what Debian's archive holds that day:
// a lock pinning a .deb that the archive dropped (a security update
// replaced it; the mirror keeps only the newest) and the download cache
// does not hold is re-pinned in the copy with unit pkg update's code, and
// the test says so: the committed locks want `make update-locks` then.
func lockedRecipes(t *testing.T, dst string) string {
	t.Helper()
	if err := os.CopyFS(dst, os.DirFS("../packages")); err != nil {
		t.Fatal(err)
	}
	store, err := pkgbuild.DefaultStore()
	if err != nil {
		t.Fatal(err)
	}
	b, err := pkgbuild.NewBuilder(pkgbuild.Options{Store: store, Helper: unitBinary})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	all, _ := filepath.Glob(filepath.Join(dst, "*.toml"))
	stale, err := b.Stale(ctx, all)
	if err != nil {
		t.Fatalf("checking the locks: %v", err)
	}
	if len(stale) == 0 {
		return dst
	}
	t.Logf("pinned .debs left Debian's archive: re-pinning a copy of %v (run make update-locks)", stale)
	moves, err := b.Update(ctx, stale)
	if err != nil {
		t.Fatalf("unit pkg update: %v", err)
	}
	for _, m := range moves {
		t.Logf("  %s", m)
	}
	return dst
}

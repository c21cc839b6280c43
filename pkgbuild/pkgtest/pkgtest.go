// Package pkgtest is for tests that build from committed recipes and
// their locks (packages/): they take a copy through Recipes, so none
// depends on what Debian's archive holds that day.
package pkgtest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/unit-os/unit/pkgbuild"
)

// Recipes copies the recipe directory src (recipes and their committed
// locks) to dst and returns dst. A lock pinning a .deb that no place
// serves any more (a security update replaced it; the archive keeps only
// the newest) is re-pinned in the copy with unit pkg update's code, and
// the test says so: the committed locks want `make update-locks` then.
// The committed files are never written. When nothing is stale it costs a
// copy and a stat per pinned .deb (the download cache is $UNIT_CACHE's).
func Recipes(t testing.TB, src, dst string) string {
	t.Helper()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	b, err := pkgbuild.NewBuilder(pkgbuild.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	all, _ := filepath.Glob(filepath.Join(dst, "*.toml"))
	stale, moves, err := b.UpdateStale(ctx, all)
	if len(stale) > 0 {
		t.Logf("pinned .debs left Debian's archive: re-pinned a copy of %v in %s (run make update-locks)", stale, dst)
	}
	for _, m := range moves {
		t.Logf("  %s", m)
	}
	if err != nil {
		t.Fatalf("re-pinning the stale locks of %s: %v", src, err)
	}
	return dst
}

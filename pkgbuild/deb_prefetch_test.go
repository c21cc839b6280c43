package pkgbuild

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/unit-os/unit/cas"
)

// TestPullPushOffline: pull fills the download cache with every pin of a
// lock (one apt call for the lot); push puts them in a cache; a machine
// with only that cache and no mirror builds the recipe, and Stale counts
// the lock as not stale because the cache has every pin.
func TestPullPushOffline(t *testing.T) {
	standardRepo(t)
	dir := t.TempDir()
	recipe := debRecipe(t, dir, "app", "app")
	b := fetchBuilder(t, Options{})
	if _, err := b.Update(t.Context(), []string{recipe}); err != nil {
		t.Fatal(err)
	}
	had, fetched, err := b.Pull(t.Context(), []string{recipe})
	if err != nil || had != 0 || fetched != 5 {
		t.Fatalf("pull: had %d fetched %d, %v; want 0 5", had, fetched, err)
	}
	cache := cas.Dir{Path: t.TempDir()}
	put, absent, err := b.Push(t.Context(), []string{recipe}, []cas.Putter{cache})
	if err != nil || put != 5 || absent != 0 {
		t.Fatalf("push: put %d absent %d, %v", put, absent, err)
	}
	if es, _ := os.ReadDir(cache.Path); len(es) != 5 {
		t.Fatalf("cache holds %d files", len(es))
	}
	// No mirror at all from here on.
	t.Setenv("APT_CONFIG", filepath.Join(dir, "nonexistent.conf"))
	fresh := fetchBuilder(t, Options{Caches: []cas.Source{cache}})
	if stale, err := fresh.Stale(t.Context(), []string{recipe}); err != nil || len(stale) != 0 {
		t.Fatalf("stale %v, %v: the cache has every pin", stale, err)
	}
	build(t, fresh, recipe)
	had, fetched, err = fresh.Pull(t.Context(), []string{recipe})
	if err != nil || had != 5 || fetched != 0 {
		t.Fatalf("second pull: had %d fetched %d, %v", had, fetched, err)
	}
}

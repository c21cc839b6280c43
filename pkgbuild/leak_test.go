package pkgbuild

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n []string
	for _, e := range es {
		n = append(n, e.Name())
	}
	return n
}

// A memo whose rename fails (a directory where the memo goes) leaves no
// temp file beside it.
func TestMemoFailedWriteLeavesNothing(t *testing.T) {
	b := &Builder{cache: t.TempDir()}
	src := Source{URL: "https://example.org/x.tar.gz"}
	resolve := func() (SourceID, error) { return SourceID{Kind: "url"}, nil }
	if _, err := b.memoResolve(src, nil, resolve); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(b.cache, "resolved")
	memos, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(memos) != 1 {
		t.Fatalf("memos: %v", memos)
	}
	if err := os.Remove(memos[0]); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(memos[0], 0o755); err != nil {
		t.Fatal(err)
	}
	before := dirNames(t, dir)
	for range 3 {
		if _, err := b.memoResolve(src, nil, resolve); err != nil {
			t.Fatal(err)
		}
	}
	if got := dirNames(t, dir); !slices.Equal(got, before) {
		t.Errorf("after failed memo writes: %v, want %v", got, before)
	}
}

// A current link that cannot be replaced (a directory is in its place)
// leaves no temp link beside it.
func TestSetCurrentFailureLeavesNothing(t *testing.T) {
	store := t.TempDir()
	dir := filepath.Join(store, "x")
	if err := os.MkdirAll(filepath.Join(dir, currentLink, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	before := dirNames(t, dir)
	for range 3 {
		if err := setCurrent(store, &Keg{Name: "x", Dir: filepath.Join(dir, "1.0-abc")}); err == nil {
			t.Fatal("setCurrent over a directory succeeded")
		}
	}
	if got := dirNames(t, dir); !slices.Equal(got, before) {
		t.Errorf("after failed setCurrent: %v, want %v", got, before)
	}
}

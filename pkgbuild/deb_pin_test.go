package pkgbuild

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// kernRepo publishes a metapackage kmeta that depends on kern-1.2, the
// way linux-image-cloud-amd64 depends on the current kernel.
func kernRepo(t *testing.T) *debRepo {
	r := newDebRepo(t)
	r.add(fakeDeb{name: "kern-1.2", version: "1.2"})
	r.add(fakeDeb{name: "kmeta", version: "1", fields: map[string]string{"Depends": "kern-1.2"}})
	r.publish()
	return r
}

// kernRecipe is packages/kernel.toml's shape: one deb source with deps =
// false, picked through a metapackage.
const kernRecipe = `name = "k"
version = "candidate"

[[source]]
deb = "kern-*"
via = "kmeta"
version = "candidate"
deps = false
`

// noApt puts failing apt-get and apt-cache first on PATH: any apt process
// the build spawns fails it loudly and leaves a mark.
func noApt(t *testing.T) (marks string) {
	t.Helper()
	bin := t.TempDir()
	marks = filepath.Join(t.TempDir(), "apt-called")
	for _, tool := range []string{"apt-get", "apt-cache"} {
		script := "#!/bin/sh\necho \"" + tool + " $*\" >> " + marks + "\necho 'apt must not run in a warm build' >&2\nexit 99\n"
		if err := os.WriteFile(filepath.Join(bin, tool), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return marks
}

// TestDebPinWrittenThenRead: a deb source with deps = false is pinned in
// the recipe's lock on its first build (the package the metapackage
// depends on, its version and sha256); every later build, even into an
// empty store, reads the pin and spawns no apt process at all; the keg's
// source is the pinned .deb, so its hash is what it was when apt resolved
// it on every build.
func TestDebPinWrittenThenRead(t *testing.T) {
	kernRepo(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"k.toml": kernRecipe})
	recipe := filepath.Join(dir, "k.toml")
	b, progress := testBuilder(t, 1)
	first := build(t, b, recipe)["k"].Keg
	pins, err := readPins(filepath.Join(dir, "k.lock"))
	if err != nil || len(pins) != 1 {
		t.Fatalf("lock pins %+v, %v; want one pin", pins, err)
	}
	p := pins[0]
	if p.Deb != "kern-*" || p.Via != "kmeta" || p.Package != "kern-1.2" || p.Version != "1.2" || p.Arch != "all" || p.Filename != "kern-1.2_1.2_all.deb" || len(p.SHA256) != 64 {
		t.Fatalf("pin %+v", p)
	}
	want := []SourceID{{Kind: "deb", Name: "kern-1.2", Version: "1.2", Files: []FileSum{{Name: "kern-1.2_1.2_all.deb", SHA256: p.SHA256}}}}
	if first.Version != "1.2" || !reflect.DeepEqual(first.Sources, want) {
		t.Errorf("keg version %q sources %+v, want 1.2 from %+v", first.Version, first.Sources, want)
	}
	if !strings.Contains(progress.String(), "pinned kern-1.2 1.2 in "+filepath.Join(dir, "k.lock")) {
		t.Errorf("progress does not say it pinned:\n%s", progress)
	}

	marks := noApt(t)
	again := build(t, b, recipe)["k"]
	// A fresh store with the same download cache: built again, from the pin.
	fresh, err := NewBuilder(Options{Store: filepath.Join(t.TempDir(), "store"), Cache: b.cache, Jobs: 1})
	if err != nil {
		t.Fatal(err)
	}
	rebuilt := build(t, fresh, recipe)["k"]
	if calls, err := os.ReadFile(marks); err == nil {
		t.Fatalf("a build with the pin ran apt:\n%s", calls)
	}
	if !again.Cached || again.Keg.Dir != first.Dir {
		t.Errorf("warm build: cached %v, %s (was %s)", again.Cached, again.Keg.Dir, first.Dir)
	}
	if rebuilt.Cached || rebuilt.Keg.Hash != first.Hash {
		t.Errorf("fresh store: cached %v, hash %s (was %s)", rebuilt.Cached, rebuilt.Keg.Hash, first.Hash)
	}
	if _, err := os.Stat(filepath.Join(rebuilt.Keg.Dir, "usr/share/kern-1.2/version.txt")); err != nil {
		t.Errorf("rebuilt keg lacks the .deb's files: %v", err)
	}
}

// TestDebPinUpdated: when the metapackage moves to a newer kernel the
// pinned build does not move; pkg update re-resolves the metapackage's
// dependency, says what moved, and the next build takes the new one.
func TestDebPinUpdated(t *testing.T) {
	repo := kernRepo(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"k.toml": kernRecipe})
	recipe := filepath.Join(dir, "k.toml")
	b, _ := testBuilder(t, 1)
	first := build(t, b, recipe)["k"].Keg
	repo.add(fakeDeb{name: "kern-1.3", version: "1.3"})
	repo.add(fakeDeb{name: "kmeta", version: "2", fields: map[string]string{"Depends": "kern-1.3"}})
	repo.publish()
	if second := build(t, b, recipe)["k"].Keg; second.Dir != first.Dir {
		t.Fatalf("with the pin the build moved: %s (was %s)", second.Dir, first.Dir)
	}
	moves, err := b.Update(t.Context(), []string{recipe})
	if err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(dir, "k.lock")
	if want := []Move{{Lock: lock, Package: "kern-1.2", Old: "1.2"}, {Lock: lock, Package: "kern-1.3", New: "1.3"}}; !reflect.DeepEqual(moves, want) {
		t.Fatalf("moves %v, want %v", moves, want)
	}
	third := build(t, b, recipe)["k"].Keg
	if third.Version != "1.3" || third.Sources[0].Name != "kern-1.3" {
		t.Fatalf("after update: version %s sources %+v", third.Version, third.Sources)
	}
	if moves, err := b.Update(t.Context(), []string{recipe}); err != nil || len(moves) != 0 {
		t.Errorf("second update: %v %v, want nothing moved", moves, err)
	}
}

// TestDebPinBesideClosure: a recipe with a deb source with deps and one
// without keeps both in one lock: the closure's first build does not
// drop the pin, and Stale sees a pin that left the archive.
func TestDebPinBesideClosure(t *testing.T) {
	repo := standardRepo(t)
	repo.add(fakeDeb{name: "kern-1.2", version: "1.2"})
	repo.add(fakeDeb{name: "kmeta", version: "1", fields: map[string]string{"Depends": "kern-1.2"}})
	repo.publish()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"both.toml": "name = \"both\"\n\n[[source]]\ndeb = \"app2\"\n\n" +
		strings.SplitN(kernRecipe, "\n\n", 2)[1]})
	recipe := filepath.Join(dir, "both.toml")
	b, _ := testBuilder(t, 1)
	build(t, b, recipe)
	lock := filepath.Join(dir, "both.lock")
	if got := lockVersions(t, lock, "app2"); got["app2"] != "3.1" || got["libfoo"] != "1.0" {
		t.Errorf("closure pins %v", got)
	}
	if pins, err := readPins(lock); err != nil || len(pins) != 1 || pins[0].Package != "kern-1.2" {
		t.Fatalf("pins %+v, %v", pins, err)
	}
	if got, err := b.Stale(t.Context(), []string{recipe}); err != nil || len(got) != 0 {
		t.Fatalf("fresh: Stale = %v, %v", got, err)
	}
	// The .deb leaves the archive and the download cache.
	os.Remove(filepath.Join(repo.dir, "pool", "kern-1.2_1.2_all.deb"))
	repo.add(fakeDeb{name: "kern-1.2", version: "1.2.1"})
	repo.publish()
	pins, _ := readPins(lock)
	os.Remove(filepath.Join(b.cache, "sources", pins[0].SHA256))
	if got, err := b.Stale(t.Context(), []string{recipe}); err != nil || len(got) != 1 {
		t.Fatalf("pin gone: Stale = %v, %v; want [%s]", got, err, recipe)
	}
}

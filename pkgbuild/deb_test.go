package pkgbuild

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// debRecipe writes a one-source recipe (name, deb = pkg) into dir.
func debRecipe(t *testing.T, dir, name, pkg string) string {
	t.Helper()
	writeFiles(t, dir, map[string]string{name + ".toml": "name = \"" + name + "\"\n\n[[source]]\ndeb = \"" + pkg + "\"\n"})
	return filepath.Join(dir, name+".toml")
}

func tryBuild(b *Builder, files ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	_, err := b.Build(ctx, files)
	return err
}

func lockVersions(t *testing.T, lockPath, pkg string) map[string]string {
	t.Helper()
	l, err := readLock(lockPath, Source{Deb: pkg, Version: Candidate})
	if err != nil || l == nil {
		t.Fatalf("read lock %s: %v", lockPath, err)
	}
	out := map[string]string{}
	for _, d := range l.Debs {
		out[d.Package] = d.Version
	}
	return out
}

// TestDebClosure: apt resolves the Pre-Depends/Depends closure through an
// alternative, a virtual package and a version constraint; the lock pins
// it; each package gets its keg with its Debian metadata; Closure returns
// them all from the recipe's name.
func TestDebClosure(t *testing.T) {
	standardRepo(t)
	dir := t.TempDir()
	recipe := debRecipe(t, dir, "app", "app")
	b, _ := testBuilder(t, 1)
	res := build(t, b, recipe)["app"]
	want := map[string]string{"app": "1.0", "libbar": "2.2", "libfoo": "1.0", "prelib": "0.5", "provider": "7"}
	if got := lockVersions(t, filepath.Join(dir, "app.lock"), "app"); !reflect.DeepEqual(got, want) {
		t.Fatalf("lock pins %v, want %v", got, want)
	}
	k, err := ReadKeg(res.Keg.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if k.Version != "1.0" || k.Deb == nil {
		t.Fatalf("app keg: version %q, deb %+v", k.Version, k.Deb)
	}
	if want := []string{"libbar", "libfoo", "prelib", "provider"}; !reflect.DeepEqual(k.Deb.Depends, want) {
		t.Errorf("app depends %v, want %v (alternative and virtual resolved)", k.Deb.Depends, want)
	}
	if k.Deb.Postinst != appPostinst {
		t.Errorf("app keg's postinst %q, want %q", k.Deb.Postinst, appPostinst)
	}
	if !reflect.DeepEqual(k.Deb.Conffiles, []string{"/etc/app.conf"}) || k.Deb.Source != "app" || k.Deb.Arch != "all" || len(k.Deb.SHA256) != 64 || k.Deb.Filename != "app_1.0_all.deb" {
		t.Errorf("app deb info %+v", k.Deb)
	}
	if _, err := os.Stat(filepath.Join(k.Dir, "etc/app.conf")); err != nil {
		t.Errorf("app keg lacks its files: %v", err)
	}
	kegs, err := Closure(b.Store(), []string{"app"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range kegs {
		names = append(names, c.Name+"="+c.Version)
		if c.Deb == nil {
			t.Errorf("%s: no deb info", c.Name)
		}
	}
	sort.Strings(names)
	if w := []string{"app=1.0", "libbar=2.2", "libfoo=1.0", "prelib=0.5", "provider=7"}; !reflect.DeepEqual(names, w) {
		t.Errorf("closure %v, want %v", names, w)
	}
	for _, c := range kegs {
		if c.Name == "libbar" && !reflect.DeepEqual(c.Deb.Depends, []string{"libfoo"}) {
			t.Errorf("libbar depends %v", c.Deb.Depends)
		}
	}
	// A rebuild with the lock is a cache hit and asks apt nothing: with
	// apt pointed nowhere it still succeeds.
	t.Setenv("APT_CONFIG", filepath.Join(dir, "nonexistent.conf"))
	again := build(t, b, recipe)["app"]
	if !again.Cached || again.Keg.Dir != res.Keg.Dir || !reflect.DeepEqual(again.Keg.Deb.Conffiles, []string{"/etc/app.conf"}) || again.Keg.Deb.Postinst != appPostinst {
		t.Errorf("rebuild: cached %v, %s (was %s)", again.Cached, again.Keg.Dir, res.Keg.Dir)
	}
}

// TestDebLockObeyedThenUpdated: a newer libfoo in the archive does not
// move a locked build; pkg update moves it and says so; afterwards both
// libfoo versions live side by side in the store.
func TestDebLockObeyedThenUpdated(t *testing.T) {
	repo := standardRepo(t)
	dir := t.TempDir()
	recipe := debRecipe(t, dir, "app", "app")
	b, _ := testBuilder(t, 1)
	first := build(t, b, recipe)["app"].Keg
	repo.add(fakeDeb{name: "libfoo", version: "2.0"})
	repo.publish()
	second := build(t, b, recipe)["app"].Keg
	if second.Dir != first.Dir || !strings.HasPrefix(second.Deps["libfoo"], "libfoo/1.0-") {
		t.Fatalf("with the lock the build moved: %s deps %v", second.Dir, second.Deps)
	}
	moves, err := b.Update(t.Context(), []string{recipe})
	if err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(dir, "app.lock")
	if want := []Move{{Lock: lock, Package: "libfoo", Old: "1.0", New: "2.0"}}; !reflect.DeepEqual(moves, want) {
		t.Fatalf("moves %v, want %v", moves, want)
	}
	if s := moves[0].String(); s != lock+": libfoo 1.0 -> 2.0" {
		t.Errorf("move prints %q", s)
	}
	third := build(t, b, recipe)["app"].Keg
	if !strings.HasPrefix(third.Deps["libfoo"], "libfoo/2.0-") || third.Dir == first.Dir {
		t.Fatalf("after update: %s deps %v", third.Dir, third.Deps)
	}
	vers, _ := filepath.Glob(filepath.Join(b.Store(), "libfoo", "*"))
	if len(vers) != 2 {
		t.Errorf("libfoo kegs %v: want 1.0 and 2.0 side by side", vers)
	}
	if moves, err := b.Update(t.Context(), []string{recipe}); err != nil || len(moves) != 0 {
		t.Errorf("second update: %v %v, want nothing moved", moves, err)
	}
	// gc keeps what the current app keg's closure uses, and only that.
	removed, err := GC(b.Store(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if vers, _ := filepath.Glob(filepath.Join(b.Store(), "libfoo", "*")); len(vers) != 1 || filepath.Join(b.Store(), third.Deps["libfoo"]) != vers[0] {
		t.Errorf("after gc libfoo kegs %v (removed %v), want only %s", vers, removed, third.Deps["libfoo"])
	}
	if _, err := Closure(b.Store(), []string{"app"}); err != nil {
		t.Errorf("closure after gc: %v", err)
	}
}

// TestDebVirtualTop: a recipe may name a virtual package; the lock
// records the package apt chose for it, and the keg is that package.
func TestDebVirtualTop(t *testing.T) {
	standardRepo(t)
	dir := t.TempDir()
	recipe := debRecipe(t, dir, "v", "virt")
	b, _ := testBuilder(t, 1)
	k := build(t, b, recipe)["v"].Keg
	if k.Deb == nil || k.Deb.Package != "provider" || k.Version != "7" || len(k.Deps) != 0 {
		t.Errorf("virt keg %+v deb %+v", k, k.Deb)
	}
}

// TestDebSharedKeg: two recipes whose closures pin the same libfoo .deb
// share one libfoo keg.
func TestDebSharedKeg(t *testing.T) {
	standardRepo(t)
	dir := t.TempDir()
	a, c := debRecipe(t, dir, "app", "app"), debRecipe(t, dir, "other", "app2")
	b, _ := testBuilder(t, 2)
	res := build(t, b, a, c)
	if x, y := res["app"].Keg.Deps["libfoo"], res["other"].Keg.Deps["libfoo"]; x == "" || x != y {
		t.Errorf("libfoo kegs %q and %q: want one shared", x, y)
	}
	if vers, _ := filepath.Glob(filepath.Join(b.Store(), "libfoo", "*")); len(vers) != 1 {
		t.Errorf("libfoo kegs %v: want one", vers)
	}
	if res["other"].Keg.Version != "3.1" {
		t.Errorf("other's version %q: want app2's", res["other"].Keg.Version)
	}
}

// TestDebTamperedRefused: a .deb whose bytes no longer match its pinned
// sha256 is refused, and the store stays without a trace of it.
func TestDebTamperedRefused(t *testing.T) {
	repo := standardRepo(t)
	dir := t.TempDir()
	recipe := debRecipe(t, dir, "app", "app")
	b, _ := testBuilder(t, 1)
	if _, err := b.Update(t.Context(), []string{recipe}); err != nil {
		t.Fatal(err)
	}
	// The mirror now serves other bytes for libfoo 1.0, index and all.
	repo.add(fakeDeb{name: "libfoo", version: "1.0", fields: map[string]string{"X-Evil": "yes"}})
	repo.publish()
	err := tryBuild(b, recipe)
	if err == nil || !strings.Contains(err.Error(), "sha256 mismatch") {
		t.Fatalf("error %v: want a sha256 mismatch", err)
	}
	for _, e := range storeEntries(t, b.Store()) {
		if strings.HasPrefix(e, "libfoo") || strings.HasPrefix(e, "app") {
			t.Errorf("store has %s", e)
		}
	}
	if tmps, _ := filepath.Glob(filepath.Join(b.Store(), ".tmp", "*")); len(tmps) > 0 {
		t.Errorf("leftovers %v", tmps)
	}
}

// TestDebPinnedVersionGone: a lock entry for a version the archive
// dropped gives the error that says what to run.
func TestDebPinnedVersionGone(t *testing.T) {
	repo := standardRepo(t)
	dir := t.TempDir()
	recipe := debRecipe(t, dir, "app", "app")
	b, _ := testBuilder(t, 1)
	if _, err := b.Update(t.Context(), []string{recipe}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(repo.dir, "pool", "libfoo_1.0_all.deb")); err != nil {
		t.Fatal(err)
	}
	repo.add(fakeDeb{name: "libfoo", version: "2.0.1"})
	repo.publish()
	err := tryBuild(b, recipe)
	for _, want := range []string{filepath.Join(dir, "app.lock") + ": libfoo 1.0 (sha256 ", "the archive (apt: no longer there)", "unit pkg update app"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %v\nwant %q", err, want)
		}
	}
	if got := storeEntries(t, b.Store()); len(got) > 0 {
		for _, e := range got {
			if strings.HasPrefix(e, "libfoo") || strings.HasPrefix(e, "app") {
				t.Errorf("store has %s", e)
			}
		}
	}
}

// TestDebUnknownPackage: a deb apt does not know is one short line at the
// recipe's source (not apt's command line), with its closure or without,
// and no lock is written.
func TestDebUnknownPackage(t *testing.T) {
	standardRepo(t)
	dir := t.TempDir()
	b, _ := testBuilder(t, 1)
	for _, c := range []struct{ name, source, want string }{
		{"n", `deb = "no-such-package"`, `no Debian package "no-such-package" (apt: Unable to locate package)`},
		{"ver", `deb = "app"` + "\nversion = \"9.9\"", `no version "9.9" of Debian package "app" (apt: Version '9.9' for 'app' was not found)`},
		// deps = false: one .deb, found with apt-cache instead.
		{"nodeps", `deb = "no-such-package"` + "\ndeps = false\nversion = \"candidate\"", `no Debian package "no-such-package" (apt-cache policy knows no such name)`},
		{"nodepsver", `deb = "no-such-package"` + "\ndeps = false\nversion = \"1.0\"", `no Debian package "no-such-package" (apt: No packages found)`},
		{"nodepsver2", `deb = "app"` + "\ndeps = false\nversion = \"9.9\"", `no version "9.9" of Debian package "app" (apt-cache show printed nothing)`},
	} {
		writeFiles(t, dir, map[string]string{c.name + ".toml": "name = \"" + c.name + "\"\nversion = \"1\"\n\n[[source]]\n" + c.source + "\n"})
		recipe := filepath.Join(dir, c.name+".toml")
		err := tryBuild(b, recipe)
		if want := recipe + ":4: source 1 (deb): " + c.want; err == nil || err.Error() != want {
			t.Errorf("%s: error\n%v\nwant\n%s", c.name, err, want)
		}
		if _, err := os.Stat(filepath.Join(dir, c.name+".lock")); err == nil {
			t.Errorf("%s: a lock was written", c.name)
		}
	}
}

// TestDebStale: a lock whose pinned .deb left the archive is stale until
// the download cache holds it or pkg update re-pins it; a fresh lock and a
// recipe without one are not.
func TestDebStale(t *testing.T) {
	repo := standardRepo(t)
	dir := t.TempDir()
	recipe := debRecipe(t, dir, "app", "app")
	b, _ := testBuilder(t, 1)
	if got, err := b.Stale(t.Context(), []string{recipe}); err != nil || len(got) != 0 {
		t.Fatalf("no lock yet: Stale = %v, %v; want none", got, err)
	}
	if _, err := b.Update(t.Context(), []string{recipe}); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Stale(t.Context(), []string{recipe}); err != nil || len(got) != 0 {
		t.Fatalf("fresh lock: Stale = %v, %v; want none", got, err)
	}
	if err := os.Remove(filepath.Join(repo.dir, "pool", "libfoo_1.0_all.deb")); err != nil {
		t.Fatal(err)
	}
	repo.add(fakeDeb{name: "libfoo", version: "2.0.1"})
	repo.publish()
	got, err := b.Stale(t.Context(), []string{recipe})
	if err != nil || len(got) != 1 || got[0] != recipe {
		t.Fatalf("pin gone: Stale = %v, %v; want [%s]", got, err, recipe)
	}
	if _, err := b.Update(t.Context(), got); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Stale(t.Context(), []string{recipe}); err != nil || len(got) != 0 {
		t.Fatalf("re-pinned: Stale = %v, %v; want none", got, err)
	}
	if err := tryBuild(b, recipe); err != nil {
		t.Fatalf("build after re-pin: %v", err)
	}
	// The download cache now holds every pinned .deb: the archive may drop them.
	if err := os.Remove(filepath.Join(repo.dir, "pool", "libfoo_2.0.1_all.deb")); err != nil {
		t.Fatal(err)
	}
	repo.add(fakeDeb{name: "libfoo", version: "2.0.2"})
	repo.publish()
	if got, err := b.Stale(t.Context(), []string{recipe}); err != nil || len(got) != 0 {
		t.Fatalf("cached: Stale = %v, %v; want none", got, err)
	}
}

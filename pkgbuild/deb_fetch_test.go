package pkgbuild

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unit-os/unit/cas"
)

// lostPin sets up a recipe "xyz" whose lock pins xyz 1.0, a .deb the
// mirror (a local apt repository) has never heard of: apt-get download
// fails as for a version Debian dropped. It returns the recipe, the .deb
// (outside any repository) and its sha256.
func lostPin(t *testing.T, withSnapshotFields bool) (recipe, deb, sum string) {
	t.Helper()
	repo := newDebRepo(t)
	built := repo.add(fakeDeb{name: "xyz", version: "1.0"})
	deb = filepath.Join(t.TempDir(), "xyz_1.0_all.deb")
	if err := os.Rename(built, deb); err != nil {
		t.Fatal(err)
	}
	repo.add(fakeDeb{name: "other", version: "1"})
	repo.publish()
	sum, err := FileSHA256(deb)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	recipe = debRecipe(t, dir, "xyz", "xyz")
	lock := "package = \"xyz\"\ntop = \"xyz\"\n"
	if withSnapshotFields {
		lock += "resolved = 2026-12-01T00:00:00Z\n"
	}
	lock += "\n[[deb]]\nname = \"xyz\"\nversion = \"1.0\"\narch = \"all\"\nsha256 = \"" + sum + "\"\nfilename = \"xyz_1.0_all.deb\"\nsource = \"xyz\"\ndepends = []\n"
	if withSnapshotFields {
		lock += "path = \"pool/main/x/xyz/xyz_1.0_all.deb\"\narchive = \"debian\"\n"
	}
	writeFiles(t, dir, map[string]string{"xyz.lock": lock})
	return recipe, deb, sum
}

// snapshotArchive serves root laid out as snapshot.debian.org is:
// /archive/<archive>/<time>/pool/...
func snapshotArchive(t *testing.T, deb string) (root string, srv *httptest.Server) {
	root = t.TempDir()
	if deb != "" {
		p := filepath.Join(root, "archive/debian/20261201T000000Z/pool/main/x/xyz/xyz_1.0_all.deb")
		writeFiles(t, root, map[string]string{})
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(deb)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv = httptest.NewServer(http.FileServer(http.Dir(root)))
	t.Cleanup(srv.Close)
	return root, srv
}

func fetchBuilder(t *testing.T, o Options) *Builder {
	t.Helper()
	dir := t.TempDir()
	o.Store, o.Cache, o.Jobs, o.Tick = filepath.Join(dir, "store"), filepath.Join(dir, "cache"), 1, time.Hour
	b, err := NewBuilder(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func kegFile(t *testing.T, b *Builder, recipe string) string {
	t.Helper()
	k := build(t, b, recipe)["xyz"].Keg
	data, err := os.ReadFile(filepath.Join(k.Dir, "usr/share/xyz/version.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestPinFromSnapshot: a pin the mirror does not have builds from a
// snapshot archive at the lock's resolution time, and the .deb is written
// through to the push place.
func TestPinFromSnapshot(t *testing.T) {
	recipe, deb, sum := lostPin(t, true)
	_, srv := snapshotArchive(t, deb)
	push := cas.Dir{Path: t.TempDir()}
	b := fetchBuilder(t, Options{Snapshots: []string{srv.URL + "/archive/{archive}/{time}"}, Push: []cas.Putter{push}})
	if got := kegFile(t, b, recipe); got != "1.0\n" {
		t.Fatalf("keg holds %q", got)
	}
	if ok, _ := push.Has(t.Context(), sum); !ok {
		t.Fatal("write-through: the push dir lacks the .deb")
	}
}

// TestPinFromCache: a lock whose version left the archive builds from a
// directory cache and from an HTTP cache.
func TestPinFromCache(t *testing.T) {
	recipe, deb, sum := lostPin(t, false)
	dirCache := cas.Dir{Path: t.TempDir()}
	if err := cas.PutFile(t.Context(), dirCache, sum, deb); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dirCache.Path)))
	t.Cleanup(srv.Close)
	for _, c := range []cas.Source{dirCache, cas.HTTP{Base: srv.URL}} {
		b := fetchBuilder(t, Options{Caches: []cas.Source{c}})
		if got := kegFile(t, b, recipe); got != "1.0\n" {
			t.Fatalf("from %s: keg holds %q", c, got)
		}
	}
}

// TestPinNowhere: when every place fails, the error names the pin, every
// place with why, and the two ways out; an older lock says why snapshots
// could not be asked.
func TestPinNowhere(t *testing.T) {
	recipe, _, sum := lostPin(t, true)
	_, snap := snapshotArchive(t, "")
	_, httpCache := snapshotArchive(t, "")
	empty := t.TempDir()
	o := Options{
		Caches:    []cas.Source{cas.Dir{Path: empty}, cas.HTTP{Base: httpCache.URL + "/unit"}},
		Snapshots: []string{snap.URL + "/archive/{archive}/{time}"},
	}
	b := fetchBuilder(t, o)
	err := tryBuild(b, recipe)
	if err == nil {
		t.Fatal("build succeeded with the pin nowhere")
	}
	lock := strings.TrimSuffix(recipe, ".toml") + ".lock"
	for _, want := range []string{
		lock + ": xyz 1.0 (sha256 " + sum + "): not found in: ",
		"download cache " + filepath.Join(b.cache, "sources") + "; ",
		"dir " + empty + "; ",
		httpCache.URL + "/unit (404); ",
		"the archive (apt: no longer there); ",
		"snapshot " + snap.URL + "/archive/debian/20261201T000000Z/pool/main/x/xyz/xyz_1.0_all.deb (404)",
		"Ways out: unit pkg update xyz (re-pin to what the archive has now), or add a cache that has it to pkg.toml",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	old, _, _ := lostPin(t, false)
	err = tryBuild(fetchBuilder(t, o), old)
	if want := "snapshots (the lock has no pool path or resolution time for it: an older lock)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("older lock: %v\nwant %q", err, want)
	}
}

// TestLockRecordsSnapshotFields: resolution writes the resolution time and
// each .deb's pool path and archive, and a lock's path is checked.
func TestLockRecordsSnapshotFields(t *testing.T) {
	standardRepo(t)
	dir := t.TempDir()
	recipe := debRecipe(t, dir, "app", "app")
	b := fetchBuilder(t, Options{})
	if _, err := b.Update(t.Context(), []string{recipe}); err != nil {
		t.Fatal(err)
	}
	l, err := readLock(LockPath(recipe), Source{Deb: "app", Version: Candidate})
	if err != nil {
		t.Fatal(err)
	}
	if l.Resolved == nil || time.Since(*l.Resolved) > time.Hour {
		t.Errorf("resolved %v", l.Resolved)
	}
	for _, d := range l.Debs {
		if d.Path != "pool/"+d.Filename || d.Archive != "debian" || !d.Resolved.Equal(*l.Resolved) {
			t.Errorf("%s: path %q archive %q resolved %v", d.Package, d.Path, d.Archive, d.Resolved)
		}
	}
	for _, bad := range []string{"../pool/x/app_1.0_all.deb", "pool/../../app_1.0_all.deb", "/pool/app_1.0_all.deb", "pool/other.deb", "dists/app_1.0_all.deb"} {
		d := l.Debs[0]
		d.Path = bad
		if err := d.check(); err == nil {
			t.Errorf("path %q accepted", bad)
		}
	}
	if a := archiveOf("http://security.debian.org/debian-security/pool/updates/main/o/openssl/libssl3_3.0.15-1%7edeb12u1_amd64.deb", "pool/updates/main/o/openssl/libssl3_3.0.15-1~deb12u1_amd64.deb"); a != "debian-security" {
		t.Errorf("archive of a security .deb: %q", a)
	}
}

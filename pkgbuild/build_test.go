package pkgbuild

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/unit-os/unit/config"
)

// storeEntries lists what is in a store (kegs, temp dirs), for proving
// that a failed build left nothing behind.
func storeEntries(t *testing.T, store string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(store, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(store, p)
		if rel == "." || rel == ".lock" || rel == ".tmp" || strings.HasPrefix(rel, ".log") {
			return nil
		}
		out = append(out, rel)
		return nil
	})
	return out
}

// TestHashMismatchLeavesStoreUntouched: a url source whose bytes do not
// match the recipe's sha256 fails at the recipe's line, and neither the
// store nor the download cache keeps anything.
func TestHashMismatchLeavesStoreUntouched(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("not what the recipe pinned\n"))
	}))
	defer srv.Close()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"bad.toml": `name = "bad"
version = "1"
steps = [["cp", "file.txt", "/out/"]]

[[source]]
url = "` + srv.URL + `/file.txt"
sha256 = "` + strings.Repeat("0", 64) + `"
`})
	b, _ := testBuilder(t, 1)
	_, err := b.Build(context.Background(), []string{filepath.Join(dir, "bad.toml")})
	if err == nil {
		t.Fatal("build succeeded with a wrong sha256")
	}
	for _, want := range []string{filepath.Join(dir, "bad.toml") + ":5:", "sha256 mismatch", strings.Repeat("0", 64)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if got := storeEntries(t, b.Store()); len(got) > 0 {
		t.Errorf("store has %v after a failed build", got)
	}
	if tmps, _ := filepath.Glob(filepath.Join(b.Store(), ".tmp", "*")); len(tmps) > 0 {
		t.Errorf("temp dirs left: %v", tmps)
	}
	if files, _ := filepath.Glob(filepath.Join(b.cache, "sources", "*")); len(files) > 0 {
		t.Errorf("source cache kept %v", files)
	}
}

// TestURLNotFound: a url that answers 404 fails the build with the
// address and apt's reason, and nothing reaches the store or the cache.
func TestURLNotFound(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"gone.toml": `name = "gone"
version = "1"
steps = [["true"]]

[[source]]
url = "` + srv.URL + `/gone.tar.gz"
sha256 = "` + strings.Repeat("1", 64) + `"
`})
	b, _ := testBuilder(t, 1)
	_, err := b.Build(context.Background(), []string{filepath.Join(dir, "gone.toml")})
	if err == nil {
		t.Fatal("build succeeded with a missing source")
	}
	for _, want := range []string{srv.URL + "/gone.tar.gz", "404"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if got := storeEntries(t, b.Store()); len(got) > 0 {
		t.Errorf("store has %v after a failed download", got)
	}
	if files, _ := filepath.Glob(filepath.Join(b.cache, "sources", "*")); len(files) > 0 {
		t.Errorf("source cache kept %v", files)
	}
}

// TestFailedStepLeavesStoreUntouched: a build that fails half way (after
// writing into its output) leaves no keg and reports the step.
func TestFailedStepLeavesStoreUntouched(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"half.toml": `name = "half"
version = "1"
steps = [["sh", "-c", "echo partial > $OUT/file"], ["sh", "-c", "echo boom >&2; exit 3"]]
`})
	b, _ := testBuilder(t, 1)
	_, err := b.Build(context.Background(), []string{filepath.Join(dir, "half.toml")})
	if err == nil || !strings.Contains(err.Error(), "step 2") || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("error %v: want step 2 and its output", err)
	}
	if got := storeEntries(t, b.Store()); len(got) > 0 {
		t.Errorf("store has %v after a failed build", got)
	}
}

func TestDependencyCycle(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.toml": "name = \"a\"\nversion = \"1\"\nsteps = [[\"true\"]]\ndeps = [\"b\"]\n",
		"b.toml": "name = \"b\"\nversion = \"1\"\nsteps = [[\"true\"]]\nbuild_deps = [\"c\"]\n",
		"c.toml": "name = \"c\"\nversion = \"1\"\nsteps = [[\"true\"]]\n\ndeps = [\"a\"]\n",
	})
	b, _ := testBuilder(t, 1)
	_, err := b.Build(context.Background(), []string{filepath.Join(dir, "a.toml")})
	if err == nil {
		t.Fatal("no error for a dependency cycle")
	}
	var errs config.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error %T %v, want config.Errors", err, err)
	}
	if !strings.Contains(err.Error(), "dependency cycle: a → b → c → a") || !strings.Contains(err.Error(), "c.toml:5:") {
		t.Errorf("error %q: want the cycle at c.toml:5", err)
	}
	if got := storeEntries(t, b.Store()); len(got) > 0 {
		t.Errorf("store has %v", got)
	}
}

func TestMissingDependency(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.toml": "name = \"a\"\nversion = \"1\"\nsteps = [[\"true\"]]\ndeps = [\"nope\"]\n"})
	_, err := LoadRecipes([]string{filepath.Join(dir, "a.toml")})
	if err == nil || !strings.Contains(err.Error(), "a.toml:4: deps: no recipe for \"nope\"") {
		t.Fatalf("error %v", err)
	}
}

// chain writes lib (a local source copied into the keg), app (reads lib's
// keg at build time, runtime dep) and other (independent).
func chain(t *testing.T, dir, libText string) {
	writeFiles(t, dir, map[string]string{
		"src/greeting": libText,
		"lib.toml": `name = "lib"
version = "1"
steps = [["cp", "greeting", "/out/greeting"]]
[[source]]
local = "src"
`,
		"app.toml": `name = "app"
version = "1"
deps = ["lib"]
steps = [["sh", "-c", "cat $DEP_LIB/greeting > $OUT/app"]]
`,
		"other.toml": "name = \"other\"\nversion = \"1\"\nsteps = [[\"touch\", \"/out/other\"]]\n",
	})
}

// TestCacheAndDependentRebuild: an unchanged recipe is not rebuilt; a
// change in lib's source rebuilds lib and app (its dependent) only; a
// change in app rebuilds app only.
func TestCacheAndDependentRebuild(t *testing.T) {
	dir := t.TempDir()
	chain(t, dir, "hi\n")
	files := []string{filepath.Join(dir, "app.toml"), filepath.Join(dir, "other.toml")}
	b, _ := testBuilder(t, 2)

	first := build(t, b, files...)
	if len(first) != 3 {
		t.Fatalf("built %d packages, want app, lib (pulled in as a dep) and other", len(first))
	}
	for n, r := range first {
		if r.Cached {
			t.Errorf("%s cached on the first build", n)
		}
	}
	if data, err := os.ReadFile(filepath.Join(first["app"].Keg.Dir, "app")); err != nil || string(data) != "hi\n" {
		t.Fatalf("app keg: %q %v", data, err)
	}
	if got := first["app"].Keg.Deps["lib"]; got != first["lib"].Keg.RelDir() {
		t.Errorf("app's runtime dep is %q, want %q", got, first["lib"].Keg.RelDir())
	}

	again := build(t, b, files...)
	for n, r := range again {
		if !r.Cached || r.Keg.Dir != first[n].Keg.Dir {
			t.Errorf("%s rebuilt without a change", n)
		}
	}

	writeFiles(t, dir, map[string]string{"src/greeting": "hello\n"})
	third := build(t, b, files...)
	for n, want := range map[string]bool{"lib": false, "app": false, "other": true} {
		if third[n].Cached != want {
			t.Errorf("after changing lib's source: %s cached=%v, want %v", n, third[n].Cached, want)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(third["app"].Keg.Dir, "app")); string(data) != "hello\n" {
		t.Errorf("app built against the old lib: %q", data)
	}
	// Both versions of lib and app now live side by side.
	if _, err := os.Stat(first["lib"].Keg.Dir); err != nil {
		t.Errorf("old lib keg gone: %v", err)
	}

	writeFiles(t, dir, map[string]string{"app.toml": strings.Replace(readFile(t, filepath.Join(dir, "app.toml")), "version = \"1\"", "version = \"1\"\nrevision = 1", 1)})
	fourth := build(t, b, files...)
	for n, want := range map[string]bool{"lib": true, "app": false, "other": true} {
		if fourth[n].Cached != want {
			t.Errorf("after changing app: %s cached=%v, want %v", n, fourth[n].Cached, want)
		}
	}

	// gc keeps the current kegs and what they need, drops the rest.
	removed, err := GC(b.Store(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 3 { // lib v1, app v1 (old lib), app before the revision
		t.Errorf("gc removed %v, want 3 kegs", removed)
	}
	kegs, _ := List(b.Store())
	if len(kegs) != 3 {
		t.Errorf("after gc: %d kegs, want 3", len(kegs))
	}
	if c, err := Closure(b.Store(), []string{"app"}); err != nil || len(c) != 2 || c[0].Name != "lib" {
		t.Errorf("closure of app: %v %v", c, err)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestParallelBuilds: two independent recipes build at the same time (both
// start before either ends); a dependent waits for its dep.
func TestParallelBuilds(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"x.toml":    "name = \"x\"\nversion = \"1\"\nsteps = [[\"sleep\", \"1\"], [\"touch\", \"/out/x\"]]\n",
		"y.toml":    "name = \"y\"\nversion = \"1\"\nsteps = [[\"sleep\", \"1\"], [\"touch\", \"/out/y\"]]\n",
		"both.toml": "name = \"both\"\nversion = \"1\"\nbuild_deps = [\"x\", \"y\"]\nsteps = [[\"sh\", \"-c\", \"ls $DEP_X $DEP_Y > $OUT/seen\"]]\n",
	})
	b, progress := testBuilder(t, 2)
	start := time.Now()
	res := build(t, b, filepath.Join(dir, "both.toml"))
	elapsed := time.Since(start)
	lines := strings.Split(progress.String(), "\n")
	pos := func(prefix, word string) int {
		for i, l := range lines {
			if strings.HasPrefix(l, prefix+" ") && strings.Contains(l, word) {
				return i
			}
		}
		t.Fatalf("no %q line for %s in\n%s", word, prefix, progress)
		return 0
	}
	if xs, ys, xe, ye := pos("x", "building"), pos("y", "building"), pos("x", "built"), pos("y", "built"); xs > ye || ys > xe {
		t.Errorf("x and y did not overlap:\n%s", progress)
	}
	if pos("both", "building") < pos("x", "built") || pos("both", "building") < pos("y", "built") {
		t.Errorf("both started before its build deps were built:\n%s", progress)
	}
	if got := readFile(t, filepath.Join(res["both"].Keg.Dir, "seen")); !strings.Contains(got, "x") || !strings.Contains(got, "y") {
		t.Errorf("both did not see its deps: %q", got)
	}
	t.Logf("two 1 s builds and a dependent: %v", elapsed)
}

// TestInstallOps: symlink, delete, rename and chmod act on the keg.
func TestInstallOps(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"ops.toml": `name = "ops"
version = "1"
steps = [["sh", "-c", "mkdir -p $OUT/usr/bin $OUT/usr/share/doc && echo x > $OUT/usr/bin/tool && echo d > $OUT/usr/share/doc/README && echo c > $OUT/conf"]]
[[install]]
symlink = "usr/bin/t"
target = "tool"
[[install]]
delete = "usr/share"
[[install]]
rename = "conf"
to = "etc/tool.conf"
[[install]]
chmod = "usr/bin/tool"
mode = "0755"
`})
	b, _ := testBuilder(t, 1)
	keg := build(t, b, filepath.Join(dir, "ops.toml"))["ops"].Keg.Dir
	if tgt, err := os.Readlink(filepath.Join(keg, "usr/bin/t")); err != nil || tgt != "tool" {
		t.Errorf("symlink: %q %v", tgt, err)
	}
	if _, err := os.Stat(filepath.Join(keg, "usr/share")); err == nil {
		t.Error("usr/share not deleted")
	}
	if readFile(t, filepath.Join(keg, "etc/tool.conf")) != "c\n" {
		t.Error("rename failed")
	}
	if fi, err := os.Stat(filepath.Join(keg, "usr/bin/tool")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("chmod: %v %v", fi.Mode(), err)
	}
	if fi, _ := os.Stat(filepath.Join(keg, "usr/bin/tool")); fi.ModTime().Unix() != DefaultEpoch {
		t.Errorf("mtime %v, want SOURCE_DATE_EPOCH", fi.ModTime())
	}
}

// TestReproducible: the same recipe built twice, each time with a fresh
// store and cache, gives the same keg hash and bit-identical files. The
// program is compiled with debug info and embeds __DATE__ and its source
// path, which SOURCE_DATE_EPOCH and -ffile-prefix-map make stable.
func TestReproducible(t *testing.T) {
	if _, err := os.Stat("/usr/bin/gcc"); err != nil {
		t.Skip("no gcc")
	}
	files := map[string]string{
		"src/hi.c": "#include <stdio.h>\nint main(void){printf(\"built %s %s from %s\\n\", __DATE__, __TIME__, __FILE__);return 0;}\n",
		"hi.toml": `name = "hi"
version = "1"
steps = [
  ["sh", "-c", "gcc $CFLAGS -g -o /tmp/hi $SRC/hi.c"],
  ["install", "-D", "/tmp/hi", "/out/usr/bin/hi"],
  ["sh", "-c", "tar -cf $OUT/src.tar -C $SRC . && gzip -n $OUT/src.tar"],
]
[[source]]
local = "src"
`}
	digest := func(dir string) (map[string]string, string) {
		b, _ := testBuilder(t, 1)
		k := build(t, b, filepath.Join(dir, "hi.toml"))["hi"].Keg
		d, err := Digest(k.Dir)
		if err != nil {
			t.Fatal(err)
		}
		return d, k.Hash
	}
	dir1, dir2 := t.TempDir(), filepath.Join(t.TempDir(), "some", "other", "place")
	writeFiles(t, dir1, files) // the inputs, modes included, are the same
	writeFiles(t, dir2, files)
	d1, h1 := digest(dir1)
	time.Sleep(1100 * time.Millisecond) // a different wall-clock second for __TIME__
	// The second build as reprotest would vary it: another recipe path,
	// TMPDIR, umask, time zone and locale.
	t.Setenv("TMPDIR", t.TempDir())
	t.Setenv("TZ", "Pacific/Kiritimati")
	t.Setenv("LC_ALL", "de_DE.UTF-8")
	old := syscall.Umask(0o077)
	d2, h2 := digest(dir2)
	syscall.Umask(old)
	if h1 != h2 {
		t.Errorf("keg hashes differ: %s %s", h1, h2)
	}
	if len(d1) < 4 {
		t.Fatalf("keg has %d entries", len(d1))
	}
	for p, h := range d1 {
		if d2[p] != h {
			t.Errorf("%s differs between two builds", p)
		}
	}
	if len(d1) != len(d2) {
		t.Errorf("%d entries vs %d", len(d1), len(d2))
	}
}

// TestTwoVersionsOfALibrary: app1 is built against lib 1, then lib moves to
// version 2 and app2 is built against it. Both lib kegs stay, each app
// keeps the exact lib keg it was built with, and a system with both apps
// gets both libs (different sonames, so no path clashes).
func TestTwoVersionsOfALibrary(t *testing.T) {
	dir := t.TempDir()
	lib := func(v string) string {
		return "name = \"lib\"\nversion = \"" + v + "\"\nsteps = [[\"sh\", \"-c\", \"mkdir -p $OUT/usr/lib && echo " + v + " > $OUT/usr/lib/libx.so." + v + "\"]]\n"
	}
	app := func(n string) string {
		return "name = \"" + n + "\"\nversion = \"1\"\ndeps = [\"lib\"]\nsteps = [[\"sh\", \"-c\", \"mkdir -p $OUT/usr/bin && ls $DEP_LIB/usr/lib > $OUT/usr/bin/" + n + "\"]]\n"
	}
	writeFiles(t, dir, map[string]string{"lib.toml": lib("1"), "app1.toml": app("app1"), "app2.toml": app("app2")})
	b, _ := testBuilder(t, 2)
	first := build(t, b, filepath.Join(dir, "app1.toml"))
	writeFiles(t, dir, map[string]string{"lib.toml": lib("2")})
	second := build(t, b, filepath.Join(dir, "app2.toml"))
	if first["lib"].Keg.Dir == second["lib"].Keg.Dir {
		t.Fatal("lib 2 has the same keg as lib 1")
	}
	if got := readFile(t, filepath.Join(first["app1"].Keg.Dir, "usr/bin/app1")); got != "libx.so.1\n" {
		t.Errorf("app1 saw %q", got)
	}
	if got := readFile(t, filepath.Join(second["app2"].Keg.Dir, "usr/bin/app2")); got != "libx.so.2\n" {
		t.Errorf("app2 saw %q", got)
	}
	kegs, err := Closure(b.Store(), []string{"app1", "app2"})
	if err != nil {
		t.Fatal(err)
	}
	var libs []string
	for _, k := range kegs {
		if k.Name == "lib" {
			libs = append(libs, k.Version)
		}
	}
	if strings.Join(libs, ",") != "1,2" {
		t.Errorf("closure of app1 and app2 has lib versions %v, want 1 and 2", libs)
	}
	// gc keeps lib 1: app1, a current keg, needs it.
	if removed, err := GC(b.Store(), nil); err != nil || len(removed) != 0 {
		t.Errorf("gc removed %v (%v); every keg is needed", removed, err)
	}
}

// TestURLSourceOffline: a url tarball is fetched once, checked, unpacked
// (strip 1), and cached by sha256: with the server gone, a fresh store
// still builds from the cache.
func TestURLSourceOffline(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"pkg-1.0/greeting": "from a tarball\n"})
	tarball := filepath.Join(dir, "pkg-1.0.tar.gz")
	if out, err := exec.Command("tar", "-czf", tarball, "-C", dir, "pkg-1.0").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	sum, err := FileSHA256(tarball)
	if err != nil {
		t.Fatal(err)
	}
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		http.ServeFile(w, r, tarball)
	}))
	writeFiles(t, dir, map[string]string{"pkg.toml": `name = "pkg"
version = "1.0"
steps = [["cp", "greeting", "/out/greeting"]]
[[source]]
url = "` + srv.URL + `/pkg-1.0.tar.gz"
sha256 = "` + sum + `"
`})
	b, _ := testBuilder(t, 1)
	k := build(t, b, filepath.Join(dir, "pkg.toml"))["pkg"].Keg
	if readFile(t, filepath.Join(k.Dir, "greeting")) != "from a tarball\n" {
		t.Error("tarball not unpacked into the source dir")
	}
	srv.Close()
	b2, err := NewBuilder(Options{Store: filepath.Join(t.TempDir(), "store"), Cache: b.cache})
	if err != nil {
		t.Fatal(err)
	}
	k2 := build(t, b2, filepath.Join(dir, "pkg.toml"))["pkg"].Keg
	if k2.Hash != k.Hash || hits != 1 {
		t.Errorf("offline rebuild: hash %s vs %s, %d downloads", k2.Hash, k.Hash, hits)
	}
}

// TestMakeBuilder: builder = "make" runs make and make install with
// DESTDIR=/out and PREFIX=/usr, then the recipe's own steps.
func TestMakeBuilder(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"src/Makefile": "all:\n\techo built > tool\ninstall:\n\tinstall -D -m 0755 tool $(DESTDIR)$(PREFIX)/bin/tool\n",
		"m.toml": `name = "m"
version = "1"
builder = "make"
steps = [["sh", "-c", "echo after > $OUT/after"]]
[[source]]
local = "src"
`})
	b, _ := testBuilder(t, 1)
	k := build(t, b, filepath.Join(dir, "m.toml"))["m"].Keg
	if readFile(t, filepath.Join(k.Dir, "usr/bin/tool")) != "built\n" || readFile(t, filepath.Join(k.Dir, "after")) != "after\n" {
		t.Error("make builder did not install into the keg")
	}
}

// TestProgressLines: a long build's progress report always says the step
// and the time, and shows its output's last line once, when it is new; while the build prints nothing (a
// compiler after "go: downloading ...") it says the step and the time
// instead of repeating the stale line. Driven directly: no clock.
func TestProgressLines(t *testing.T) {
	tail := newTailWriter(io.Discard, [][]string{{"go", "mod", "download"}, {"go", "build", "./..."}, {"cp", "gojq", "/out"}})
	write := func(s string) { tail.Write([]byte(s)) }
	write("+ go mod download\n")
	write("+ go build ./...\ngo: downloading github.com/rivo/uniseg v0.4.7\n")
	for i, want := range []string{
		"building (step 2/3, 15 s): go: downloading github.com/rivo/uniseg v0.4.7",
		"building (step 2/3, 30 s)",
		"building (step 2/3, 45 s)",
	} {
		if got := tail.report(time.Duration(i+1) * 15 * time.Second); got != want {
			t.Errorf("report %d = %q, want %q", i+1, got, want)
		}
	}
	write("partial, no newline yet")
	if got, want := tail.report(60*time.Second), "building (step 2/3, 60 s)"; got != want {
		t.Errorf("after a partial line: %q, want %q", got, want)
	}
	write("\n+ cp gojq /out\n")
	if got, want := tail.report(75*time.Second), "building (step 3/3, 75 s): + cp gojq /out"; got != want {
		t.Errorf("new output: %q, want %q", got, want)
	}
	if got, want := tail.report(90*time.Second), "building (step 3/3, 90 s)"; got != want {
		t.Errorf("stale again: %q, want %q", got, want)
	}
	// A build's own "+ " line (sh -x) is not a step of the recipe.
	tail2 := newTailWriter(io.Discard, [][]string{{"make"}})
	tail2.Write([]byte("+ make\n+ cc -c a.c\n"))
	tail2.report(time.Second)
	if got, want := tail2.report(2*time.Second), "building (step 1/1, 2 s)"; got != want {
		t.Errorf("sh -x output: %q, want %q", got, want)
	}
}

package cm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unit-os/unit/config"
)

// Each kind of drift is seen by inotify and repaired, without polling.
func TestRunRepairsDrift(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "managed")
	rec := &recorder{}
	e := start(t, WithEvents(rec.emit))
	e.SetConfig(cfgOf(file(p, "desired\n", 0o644)))
	waitFor(t, "created", hasContent(p, "desired\n"))

	steps := []struct {
		name  string
		drift func() error
		ok    func() bool
	}{
		{"delete", func() error { return os.Remove(p) }, hasContent(p, "desired\n")},
		{"overwrite", func() error { return os.WriteFile(p, []byte("intruder"), 0o644) }, hasContent(p, "desired\n")},
		{"rename over", func() error {
			other := filepath.Join(dir, "other")
			if err := os.WriteFile(other, []byte("replaced"), 0o644); err != nil {
				return err
			}
			return os.Rename(other, p)
		}, hasContent(p, "desired\n")},
		{"chmod", func() error { return os.Chmod(p, 0o600) }, hasMode(p, 0o644)},
		{"truncate", func() error { return os.Truncate(p, 0) }, hasContent(p, "desired\n")},
	}
	for _, s := range steps {
		if err := s.drift(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		waitFor(t, s.name+" repaired", func() bool { return s.ok() && hasContent(p, "desired\n")() && hasMode(p, 0o644)() })
	}
	if !rec.hasEvent("file:"+p, "changed") || !rec.hasEvent("file:"+p, "repaired") {
		t.Errorf("events: %+v", rec.events)
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
}

func TestRunEnsureAbsent(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "forbidden")
	rec := &recorder{}
	e := start(t, WithEvents(rec.emit))
	e.SetConfig(cfgOf(absent(p)))
	mustApply(t, e)
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "removed", func() bool { _, err := os.Lstat(p); return os.IsNotExist(err) })
	waitFor(t, "removed event", func() bool { return rec.hasEvent("file:"+p, "removed") })
}

// Our own writes come back as inotify events; the re-check they cause must
// find the file in sync, and then everything goes quiet.
func TestRunSelfEventsSettle(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x")
	var calls atomic.Int64
	rec := &recorder{}
	e := start(t, countCalls(&calls), WithEvents(rec.emit))
	e.SetConfig(cfgOf(file(p, "v1", 0o644)))
	waitFor(t, "created", hasContent(p, "v1"))
	settle(t, &calls)

	before := calls.Load()
	os.Remove(p)
	waitFor(t, "restored", hasContent(p, "v1"))
	n := settle(t, &calls) - before
	// One repair plus at most a couple of re-checks from the repair's echo.
	if n < 1 || n > 3 {
		t.Errorf("%d Check/Apply calls for one drift", n)
	}
	rec.mu.Lock()
	repairs := 0
	for _, ev := range rec.events {
		if ev.State == "repaired" {
			repairs++
		}
	}
	rec.mu.Unlock()
	if repairs != 1 {
		t.Errorf("%d repaired events for one drift", repairs)
	}
}

// settle waits until no Check/Apply ran for 200ms and returns the count.
func settle(t *testing.T, calls *atomic.Int64) int64 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	last := calls.Load()
	for time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		n := calls.Load()
		if n == last {
			return n
		}
		last = n
	}
	t.Fatal("engine never went quiet")
	return 0
}

// In steady state the engine does nothing: no Check, no Apply.
func TestRunSteadyStateIsIdle(t *testing.T) {
	dir := t.TempDir()
	var calls atomic.Int64
	e := start(t, countCalls(&calls))
	var files []*config.File
	for i := range 20 {
		files = append(files, file(filepath.Join(dir, fmt.Sprint(i)), "x", 0o644))
	}
	e.SetConfig(cfgOf(files...))
	waitFor(t, "created", hasContent(filepath.Join(dir, "19"), "x"))
	n := settle(t, &calls)
	time.Sleep(300 * time.Millisecond)
	if got := calls.Load(); got != n {
		t.Errorf("%d Check/Apply calls while nothing happened", got-n)
	}
	// Reading managed files (IN_ACCESS) is not a change either.
	for i := range 20 {
		os.ReadFile(filepath.Join(dir, fmt.Sprint(i)))
	}
	time.Sleep(100 * time.Millisecond)
	if got := calls.Load(); got != n {
		t.Errorf("%d Check/Apply calls after reads", got-n)
	}
}

func TestRunNotify(t *testing.T) {
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "c")
	rec := &recorder{}
	var calls atomic.Int64
	e := start(t, WithServices(rec), WithEvents(rec.emit), countCalls(&calls))
	cfg := func(av, bv, cv string) *config.Config {
		return cfgOf(file(a, av, 0o644, "service:web"), file(b, bv, 0o644, "service:web"), file(c, cv, 0o644, "service:db"))
	}
	e.SetConfig(cfg("a1", "b1", "c1"))
	waitFor(t, "first restarts", func() bool { rec.mu.Lock(); defer rec.mu.Unlock(); return len(rec.restarts) >= 2 })
	settle(t, &calls)
	if got := rec.takeRestarts(); !slices.Equal(got, []string{"db", "web"}) {
		t.Fatalf("initial restarts = %v", got)
	}

	// One changed file: its service restarts once.
	e.SetConfig(cfg("a2", "b1", "c1"))
	waitFor(t, "a2", hasContent(a, "a2"))
	settle(t, &calls)
	if got := rec.takeRestarts(); !slices.Equal(got, []string{"web"}) {
		t.Errorf("after one change: restarts = %v", got)
	}
	if !rec.hasEvent("file:"+a, "changed") {
		t.Error("no changed event")
	}

	// Identical content: nothing is checked, nothing restarts.
	before := calls.Load()
	e.SetConfig(cfg("a2", "b1", "c1"))
	time.Sleep(200 * time.Millisecond)
	if n := calls.Load() - before; n != 0 {
		t.Errorf("identical config caused %d Check/Apply calls", n)
	}
	mustApply(t, e) // converges everything: all in sync
	if got := rec.takeRestarts(); len(got) != 0 {
		t.Errorf("identical config: restarts = %v", got)
	}

	// Two changed files notifying one service: one restart.
	e.SetConfig(cfg("a3", "b3", "c1"))
	waitFor(t, "a3 b3", func() bool { return hasContent(a, "a3")() && hasContent(b, "b3")() })
	settle(t, &calls)
	if got := rec.takeRestarts(); !slices.Equal(got, []string{"web"}) {
		t.Errorf("after two changes: restarts = %v", got)
	}

	// Drift repaired also notifies (the service may have read the bad file).
	os.WriteFile(c, []byte("bad"), 0o644)
	waitFor(t, "c repaired", hasContent(c, "c1"))
	settle(t, &calls)
	if got := rec.takeRestarts(); !slices.Equal(got, []string{"db"}) {
		t.Errorf("after drift: restarts = %v", got)
	}
}

// One inotify instance for the engine, one watch per directory.
func TestRunOneWatchPerDirectory(t *testing.T) {
	base := t.TempDir()
	dirs := []string{filepath.Join(base, "d1"), filepath.Join(base, "d2"), filepath.Join(base, "d3")}
	var files []*config.File
	for i := range 200 {
		files = append(files, file(filepath.Join(dirs[i%3], fmt.Sprintf("f%03d", i)), "x", 0o644))
	}
	inotifyBefore := countInotifyFDs(t)
	e := start(t)
	e.SetConfig(cfgOf(files...))
	rep := mustApply(t, e)
	if rep.Failed != 0 {
		t.Fatalf("report:\n%s", rep)
	}
	if n := e.WatchCount(); n != 3 {
		t.Errorf("%d watches for 3 directories", n)
	}
	if n := countInotifyFDs(t) - inotifyBefore; n != 1 {
		t.Errorf("%d inotify instances", n)
	}

	// Dropping every file of d3 from the config drops its watch; the files stay.
	var keep []*config.File
	for _, f := range files {
		if filepath.Dir(f.Name) != dirs[2] {
			keep = append(keep, f)
		}
	}
	e.SetConfig(cfgOf(keep...))
	mustApply(t, e)
	if n := e.WatchCount(); n != 2 {
		t.Errorf("%d watches after dropping d3", n)
	}
	forgotten := filepath.Join(dirs[2], "f002")
	if !hasContent(forgotten, "x")() {
		t.Error("forgotten file was removed")
	}
	os.Remove(forgotten)
	time.Sleep(100 * time.Millisecond)
	if _, err := os.Stat(forgotten); err == nil {
		t.Error("forgotten file was restored")
	}
}

func countInotifyFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	n := 0
	for _, ent := range ents {
		if l, _ := os.Readlink(filepath.Join("/proc/self/fd", ent.Name())); l == "anon_inode:inotify" {
			n++
		}
	}
	return n
}

// A missing parent is created by Apply; its watch is added after, so drift
// in it is still seen. The same holds when the directory is deleted later.
func TestRunMissingAndDeletedParent(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "a", "b")
	p := filepath.Join(dir, "x")
	e := start(t)
	e.SetConfig(cfgOf(file(p, "v", 0o644)))
	waitFor(t, "created", hasContent(p, "v"))
	waitFor(t, "watched", func() bool { return e.WatchCount() == 1 })
	os.Remove(p)
	waitFor(t, "restored", hasContent(p, "v"))

	// Moved away: the watch would follow the inode, so it must be dropped.
	// (Moving an ancestor of the watched directory is not seen; see inotify.go.)
	if err := os.Rename(dir, filepath.Join(base, "moved")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "restored after mv", hasContent(p, "v"))
	waitFor(t, "re-watched after mv", func() bool { return e.WatchCount() == 1 })
	os.WriteFile(p, []byte("drift"), 0o644)
	waitFor(t, "restored in new dir", hasContent(p, "v"))

	// Deleted: the engine races to restore the file, so retry until the
	// directory itself was gone at least once.
	for {
		os.Remove(p)
		if os.Remove(dir) == nil {
			break
		}
	}
	waitFor(t, "restored after rmdir", hasContent(p, "v"))
	waitFor(t, "re-watched after rmdir", func() bool { return e.WatchCount() == 1 })
	os.Chmod(p, 0o600)
	waitFor(t, "chmod repaired in new dir", hasMode(p, 0o644))
	if n := e.WatchCount(); n != 1 {
		t.Errorf("%d watches", n)
	}
}

// Editing a source file updates the target.
func TestRunSourceWatched(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	os.WriteFile(src, []byte("one"), 0o644)
	e := start(t)
	e.SetConfig(cfgOf(&config.File{Meta: config.Meta{Name: dst}, Source: src, FileMode: 0o644, Ensure: "present"}))
	waitFor(t, "created", hasContent(dst, "one"))
	os.WriteFile(src, []byte("two"), 0o644)
	waitFor(t, "updated", hasContent(dst, "two"))
}

// Someone rewriting a file in a tight loop: the engine keeps up without
// spinning, and once the writer stops it restores the file and goes quiet.
func TestRunTightLoopWriter(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x")
	var calls atomic.Int64
	e := start(t, countCalls(&calls))
	e.SetConfig(cfgOf(file(p, "desired", 0o644)))
	waitFor(t, "created", hasContent(p, "desired"))
	settle(t, &calls)

	before := calls.Load()
	writes := 0
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); writes++ {
		os.WriteFile(p, []byte(fmt.Sprint("noise ", writes)), 0o644)
	}
	waitFor(t, "restored", hasContent(p, "desired"))
	n := settle(t, &calls) - before
	t.Logf("%d writes -> %d Check/Apply calls", writes, n)
	if n > int64(writes)*4 {
		t.Errorf("%d calls for %d writes", n, writes)
	}
	if !hasContent(p, "desired")() {
		t.Error("not restored")
	}
}

// PID 1 safety: a panicking resource is a failure, not a crash.
func TestRunRecoversFromPanics(t *testing.T) {
	dir := t.TempDir()
	bad, good := filepath.Join(dir, "bad"), filepath.Join(dir, "good")
	rec := &recorder{}
	e := start(t, WithEvents(rec.emit), withWrap(func(r Resource) Resource {
		if r.ID() == "file:"+bad {
			return panicky{r}
		}
		return r
	}))
	e.SetConfig(cfgOf(file(bad, "x", 0o644), file(good, "y", 0o644)))
	rep := mustApply(t, e)
	if rep.Failed != 1 || !hasContent(good, "y")() {
		t.Fatalf("report:\n%s", rep)
	}
	if !strings.Contains(rep.String(), "panic: boom") {
		t.Errorf("report:\n%s", rep)
	}
	os.Remove(good)
	waitFor(t, "still running", hasContent(good, "y"))
}

type panicky struct{ Resource }

func (panicky) Apply(context.Context) ([]Delta, error) { panic("boom") }

func TestApplyDryRunThroughLoop(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x")
	e := start(t)
	e.SetConfig(cfgOf(file(p, "v", 0o644)))
	mustApply(t, e)
	// The chmod may already be repaired by inotify; either way a dry run
	// must not change anything itself, and drift it drained on its way in
	// is still repaired at once (it once waited for the next event). Four
	// rounds: a fifth repair within 10 s would start fight backoff.
	for range 4 {
		os.Chmod(p, 0o600)
		rep, err := e.Apply(context.Background(), true)
		if err != nil || !rep.DryRun {
			t.Fatal(rep, err)
		}
		waitFor(t, "repaired", hasMode(p, 0o644))
	}
}

func TestApplyWithoutRun(t *testing.T) {
	if _, err := New().Apply(context.Background(), false); err == nil {
		t.Error("Apply on a stopped engine succeeded")
	}
}

package cm

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// backdate sets an entry's atime and mtime (not following a symlink); its
// ctime stays now: only the kernel's clock sets it.
func backdate(t *testing.T, path string, to time.Time) {
	t.Helper()
	ts := []unix.Timespec{unix.NsecToTimespec(to.UnixNano()), unix.NsecToTimespec(to.UnixNano())}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func sweptNames(ds []Delta) []string {
	var out []string
	for _, d := range ds {
		if d.Attr == "swept" {
			out = append(out, d.Old)
		}
	}
	slices.Sort(out)
	return out
}

// Entries whose times are all before the cutoff go, in a dry run only on
// paper; young ones, managed ones, sticky ones and whatever a symlink
// points to stay. The cutoff is in the future here because a file's ctime
// (which counts) cannot be set back.
func TestSweepRemovesOnlyOldEntries(t *testing.T) {
	root := t.TempDir()
	d, outside := filepath.Join(root, "cache"), filepath.Join(root, "outside")
	now := time.Now()
	old, future := now.Add(-48*time.Hour), now.Add(2*time.Hour)
	cutoff := now.Add(time.Hour)

	write(t, filepath.Join(outside, "target"), "precious")
	write(t, filepath.Join(outside, "tree", "deep"), "precious too")
	backdate(t, filepath.Join(outside, "target"), old)
	backdate(t, filepath.Join(outside, "tree", "deep"), old)

	write(t, filepath.Join(d, "old"), "x")
	write(t, filepath.Join(d, "young"), "x")
	write(t, filepath.Join(d, "managed"), "x")
	write(t, filepath.Join(d, "sticky"), "x")
	write(t, filepath.Join(d, "olddir", "a"), "x")
	write(t, filepath.Join(d, "mixed", "old"), "x")
	write(t, filepath.Join(d, "mixed", "young"), "x")
	os.Chmod(filepath.Join(d, "sticky"), 0o644|os.ModeSticky)
	os.Symlink(filepath.Join(outside, "target"), filepath.Join(d, "link"))
	os.Symlink(filepath.Join(outside, "tree"), filepath.Join(d, "dirlink"))
	for _, p := range []string{"old", "managed", "sticky", "olddir/a", "olddir", "mixed/old", "mixed", "link", "dirlink"} {
		backdate(t, filepath.Join(d, p), old)
	}
	backdate(t, filepath.Join(d, "young"), future)
	backdate(t, filepath.Join(d, "mixed", "young"), future)
	keep := map[string]bool{"managed": true}
	want := []string{"dirlink", "link", "mixed/old", "old", "olddir/", "olddir/a"}

	ds, err := sweep(d, cutoff, keep, false)
	if err != nil || !slices.Equal(sweptNames(ds), want) {
		t.Fatalf("dry run: %v, %v; want %v", sweptNames(ds), err, want)
	}
	if !exists(filepath.Join(d, "old")) || !exists(filepath.Join(d, "olddir", "a")) {
		t.Fatal("a dry run removed something")
	}

	ds, err = sweep(d, cutoff, keep, true)
	if err != nil || !slices.Equal(sweptNames(ds), want) {
		t.Fatalf("sweep: %v, %v; want %v", sweptNames(ds), err, want)
	}
	for _, p := range want {
		if exists(filepath.Join(d, p)) {
			t.Errorf("%s survived", p)
		}
	}
	for _, p := range []string{"young", "managed", "sticky", "mixed", "mixed/young"} {
		if !exists(filepath.Join(d, p)) {
			t.Errorf("%s was removed", p)
		}
	}
	if !hasContent(filepath.Join(outside, "target"), "precious")() || !hasContent(filepath.Join(outside, "tree", "deep"), "precious too")() {
		t.Error("a symlink's target was removed")
	}
	// The sweep put back the times of the directory it emptied in part.
	if st := stat(t, filepath.Join(d, "mixed")); st.Mtim.Sec != old.Unix() {
		t.Errorf("mixed/ mtime %d, want %d", st.Mtim.Sec, old.Unix())
	}
	if ds, err := sweep(d, cutoff, keep, true); err != nil || len(ds) != 0 {
		t.Errorf("second sweep: %v, %v", ds, err)
	}
}

// A file changed just now stays, however far back its atime and mtime
// were set: its ctime (and birth time) are now.
func TestSweepKeepsJustChangedFile(t *testing.T) {
	d := t.TempDir()
	write(t, filepath.Join(d, "f"), "x")
	backdate(t, filepath.Join(d, "f"), time.Now().Add(-48*time.Hour))
	if ds, err := sweep(d, time.Now().Add(-time.Hour), nil, true); err != nil || len(ds) != 0 || !exists(filepath.Join(d, "f")) {
		t.Fatalf("swept a file changed just now: %v, %v", ds, err)
	}
}

// The rule itself, time by time: any time at or after the cutoff keeps an
// entry, but a directory's ctime does not count; a time the file system
// does not report (not in Mask) counts as old.
func TestSweepYoung(t *testing.T) {
	s := &sweepRun{cutoff: 1000}
	ts := func(sec int64) unix.StatxTimestamp { return unix.StatxTimestamp{Sec: sec} }
	all := uint32(unix.STATX_ATIME | unix.STATX_MTIME | unix.STATX_CTIME | unix.STATX_BTIME)
	old := unix.Statx_t{Mask: all, Atime: ts(0), Mtime: ts(0), Ctime: ts(0), Btime: ts(0)}
	for _, tc := range []struct {
		name      string
		set       func(*unix.Statx_t)
		file, dir bool
	}{
		{"all old", func(*unix.Statx_t) {}, false, false},
		{"atime", func(st *unix.Statx_t) { st.Atime = ts(2000) }, true, true},
		{"mtime", func(st *unix.Statx_t) { st.Mtime = ts(2000) }, true, true},
		{"btime", func(st *unix.Statx_t) { st.Btime = ts(2000) }, true, true},
		{"ctime", func(st *unix.Statx_t) { st.Ctime = ts(2000) }, true, false},
		{"btime unknown", func(st *unix.Statx_t) { st.Btime, st.Mask = ts(2000), all&^unix.STATX_BTIME }, false, false},
	} {
		st := old
		tc.set(&st)
		if got := s.young(&st, true); got != tc.file {
			t.Errorf("%s: file young = %v", tc.name, got)
		}
		if got := s.young(&st, false); got != tc.dir {
			t.Errorf("%s: dir young = %v", tc.name, got)
		}
	}
}

// A missing directory has nothing to sweep; a symlink in its place is
// refused, not followed.
func TestSweepRefusesSymlinkedRoot(t *testing.T) {
	root := t.TempDir()
	if ds, err := sweep(filepath.Join(root, "nope"), time.Now(), nil, true); err != nil || ds != nil {
		t.Fatalf("missing: %v, %v", ds, err)
	}
	write(t, filepath.Join(root, "real", "f"), "x")
	os.Symlink(filepath.Join(root, "real"), filepath.Join(root, "link"))
	_, err := sweep(filepath.Join(root, "link"), time.Now().Add(time.Hour), nil, true)
	if err == nil || !strings.Contains(err.Error(), "link: not a directory") {
		t.Fatalf("err = %v", err)
	}
	if !exists(filepath.Join(root, "real", "f")) {
		t.Fatal("swept through a symlink")
	}
}

// An entry the sweep cannot handle (here: nested deeper than it descends)
// is reported; the rest is swept all the same.
func TestSweepErrorIsPerEntry(t *testing.T) {
	d := t.TempDir()
	deep := filepath.Join(d, "deep")
	for range sweepDepth + 1 {
		deep = filepath.Join(deep, "d")
	}
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(d, "old"), "x")
	ds, err := sweep(d, time.Now().Add(time.Hour), nil, true)
	if err == nil || !strings.Contains(err.Error(), "levels deep") {
		t.Fatalf("err = %v", err)
	}
	if exists(filepath.Join(d, "old")) || !slices.Contains(sweptNames(ds), "old") {
		t.Errorf("the error stopped the sweep: %v", sweptNames(ds))
	}
	if !exists(deep) {
		t.Error("the unswept tree's directories were removed")
	}
}

// Other file systems mounted below the directory, and bind mounts of the
// same one, are not swept.
func TestSweepStaysOnItsFileSystem(t *testing.T) {
	if !inNamespace(t, syscall.CLONE_NEWNS) {
		return
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	d := filepath.Join(root, "cache")
	tmpfs, bind, src := filepath.Join(d, "tmpfs"), filepath.Join(d, "bind"), filepath.Join(root, "src")
	for _, p := range []string{tmpfs, bind, src} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mount("tmpfs", tmpfs, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(tmpfs, unix.MNT_DETACH)
	if err := unix.Mount(src, bind, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(bind, unix.MNT_DETACH)
	write(t, filepath.Join(tmpfs, "f"), "x")
	write(t, filepath.Join(src, "f"), "x")
	write(t, filepath.Join(d, "f"), "x")
	ds, err := sweep(d, time.Now().Add(time.Hour), nil, true)
	if err != nil || !slices.Equal(sweptNames(ds), []string{"f"}) {
		t.Fatalf("sweep: %v, %v", sweptNames(ds), err)
	}
	if !exists(filepath.Join(tmpfs, "f")) || !exists(filepath.Join(src, "f")) {
		t.Error("swept across a mount point")
	}
}

// At boot (one convergence) the directory is made like a dir and swept;
// entries another resource manages stay.
func TestTmpfileApplyOnce(t *testing.T) {
	root := t.TempDir()
	d := filepath.Join(root, "cache")
	later := func() time.Time { return time.Now().Add(2 * time.Hour) }
	src := "[tmpfile.\"" + d + "\"]\nmode = \"0750\"\nage = \"1h\"\n[file.\"" + d + "/managed\"]\ncontent = \"m\"\n"
	rep := applyOnce(t, loadCfg(t, src), WithClock(later))
	if rep.Failed != 0 || !hasMode(d, 0o750)() || !hasContent(filepath.Join(d, "managed"), "m")() {
		t.Fatalf("%s", rep)
	}
	write(t, filepath.Join(d, "stale"), "x")
	dry, err := ApplyOnce(t.Context(), loadCfg(t, src), true, quietLog(), WithClock(later))
	if err != nil || !strings.Contains(dry.String(), "swept stale") || !exists(filepath.Join(d, "stale")) {
		t.Fatalf("dry run: %v\n%s", err, dry)
	}
	rep = applyOnce(t, loadCfg(t, src), WithClock(later))
	if rep.Failed != 0 || exists(filepath.Join(d, "stale")) || !hasContent(filepath.Join(d, "managed"), "m")() {
		t.Fatalf("%s", rep)
	}
	mustNoop(t, loadCfg(t, src), WithClock(later))
}

// No timer: what makes the engine sweep is inotify reporting a change in
// the directory. Entries that aged meanwhile go then, and a symlink goes
// without its target.
func TestTmpfileSweptOnChange(t *testing.T) {
	root := t.TempDir()
	d, target := filepath.Join(root, "cache"), filepath.Join(root, "target")
	write(t, filepath.Join(d, "stale"), "x")
	write(t, target, "precious")
	backdate(t, filepath.Join(d, "stale"), time.Now().Add(-48*time.Hour))
	os.Symlink(target, filepath.Join(d, "link"))
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	e := start(t, WithClock(func() time.Time { return time.Unix(0, clock.Load()) }))
	e.SetConfig(loadCfg(t, "[tmpfile.\""+d+"\"]\nage = \"1h\"\n"))
	mustApply(t, e)
	if !exists(filepath.Join(d, "stale")) || !exists(filepath.Join(d, "link")) {
		t.Fatal("swept entries changed just now (their ctime)")
	}

	// Ninety minutes on, nothing is swept until the directory changes: a
	// new file is renamed in (its mtime later than the clock, so it stays).
	at := time.Now().Add(90 * time.Minute)
	clock.Store(at.UnixNano())
	incoming := filepath.Join(root, "incoming")
	write(t, incoming, "new")
	if err := os.Chtimes(incoming, at, at); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(incoming, filepath.Join(d, "new")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "stale entries swept", func() bool {
		return !exists(filepath.Join(d, "stale")) && !exists(filepath.Join(d, "link"))
	})
	if !hasContent(filepath.Join(d, "new"), "new")() || !hasContent(target, "precious")() {
		t.Error("a young entry or a symlink's target was removed")
	}
}

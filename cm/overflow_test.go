package cm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/unit-os/unit/config"
)

// manyFiles is a config of n files in n/100 directories under root.
func manyFiles(root string, n int) *config.Config {
	files := make([]*config.File, 0, n)
	for i := range n {
		files = append(files, file(filepath.Join(root, fmt.Sprintf("d%03d/f%05d", i/100, i)), fmt.Sprintf("managed %d\n", i), 0o644))
	}
	return cfgOf(files...)
}

func applyWithin(t *testing.T, e *Engine, d time.Duration) *Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	rep, err := e.Apply(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// The first convergence of 10,000 files echoes some 40,000 inotify events
// of its own; read as they come, none is lost (issue 14 point 6).
func TestRunNoOverflowFromOwnWrites(t *testing.T) {
	root := t.TempDir()
	e := start(t)
	e.SetConfig(manyFiles(root, 10000))
	// Apply is served after the first pass; the second one after the
	// first pass's echo was taken in.
	applyWithin(t, e, 2*time.Minute)
	rep := applyWithin(t, e, 2*time.Minute)
	if rep.Failed != 0 || rep.Unchanged != 10000 {
		t.Fatalf("after the first pass: %d unchanged, %d failed", rep.Unchanged, rep.Failed)
	}
	if n := e.InotifyOverflows(); n != 0 {
		t.Errorf("%d inotify overflows from our own writes", n)
	}
	if left := tempFiles(t, filepath.Join(root, "d099")); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
}

// When events are lost anyway (the kernel's queue overflowed while
// nothing read it), everything is re-checked: a drift made after the
// queue was full is repaired, and the overflow is counted.
func TestRunOverflowRechecksEverything(t *testing.T) {
	root := t.TempDir()
	gate := &sync.Mutex{}
	e := start(t, func(e *Engine) { e.eventGate = gate })
	cfg := manyFiles(root, 200)
	e.SetConfig(cfg)
	applyWithin(t, e, time.Minute)
	victim := filepath.Join(root, "d001/f00150")

	// Stop reading; the kernel's queue (16,384 events by default) fills
	// with creates and deletes of other names in a watched directory.
	gate.Lock()
	noise := filepath.Join(root, "d000")
	limit := 16384
	if b, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events"); err == nil {
		fmt.Sscan(string(b), &limit)
	}
	for i := range limit/2 + 4000 { // margin: what the reader buffered before it stopped
		p := filepath.Join(noise, fmt.Sprintf("noise%d", i))
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			gate.Unlock()
			t.Fatal(err)
		}
		os.Remove(p)
	}
	if err := os.WriteFile(victim, []byte("intruder\n"), 0o644); err != nil {
		gate.Unlock()
		t.Fatal(err)
	}
	gate.Unlock()
	waitFor(t, "drift repaired after the overflow", hasContent(victim, "managed 150\n"))
	if n := e.InotifyOverflows(); n != 1 {
		t.Errorf("%d overflows counted, want 1", n)
	}
}

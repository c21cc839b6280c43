package cm

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"sync"

	"github.com/fsnotify/fsnotify"
)

// watcher is the engine's single inotify instance. It watches directories,
// never files: a file watch dies with the inode, so deletion and
// replace-by-rename (what editors and package managers do) would go unseen.
// Directories are reference-counted by the managed paths they hold.
//
// Known gap: inotify does not report moving an ancestor of a watched
// directory (the directory moves along, its watch with it); deleting one is
// seen, through the deletions of the files inside. Watching every ancestor
// would cost more watches than the one per directory we promise.
//
// Only the Run goroutine calls its methods, except count.
type watcher struct {
	fs   *fsnotify.Watcher
	col  *collector // reads fs all the time (collect.go)
	dirs map[string]*dirWatch
}

type dirWatch struct {
	refs   int
	active bool // false: the directory is missing; retried after convergence
}

// eventBuffer lets the kernel reader run ahead while a convergence is in
// progress, so the next drain coalesces a whole burst into one pass.
const eventBuffer = 256

// newWatcher starts the inotify instance and its collector; gate is for
// tests (see collector).
func newWatcher(gate *sync.Mutex) (*watcher, error) {
	fw, err := fsnotify.NewBufferedWatcher(eventBuffer)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	col := newCollector()
	col.gate = gate
	go col.run(fw)
	return &watcher{fs: fw, col: col, dirs: map[string]*dirWatch{}}, nil
}

func (w *watcher) close() error { return w.fs.Close() }

// add takes a reference on path's directory, adding the inotify watch for the
// first one. A missing directory is not an error: it stays pending.
func (w *watcher) add(path string) error {
	dir := filepath.Dir(path)
	d := w.dirs[dir]
	if d == nil {
		d = &dirWatch{}
		w.dirs[dir] = d
	}
	d.refs++
	if d.active {
		return nil
	}
	return w.activate(dir, d)
}

func (w *watcher) activate(dir string, d *dirWatch) error {
	if err := w.fs.Add(dir); err != nil {
		if errors.Is(err, fsnotify.ErrClosed) {
			return err
		}
		return nil // missing (or not yet a directory): pending
	}
	d.active = true
	return nil
}

// remove drops a reference on path's directory; the last one removes the watch.
func (w *watcher) remove(path string) {
	dir := filepath.Dir(path)
	d := w.dirs[dir]
	if d == nil {
		return
	}
	if d.refs--; d.refs > 0 {
		return
	}
	delete(w.dirs, dir)
	if d.active {
		// Fails only when the kernel already dropped it (directory gone).
		_ = w.fs.Remove(dir)
	}
}

// lost marks a directory's watch gone (it was deleted or moved away); it
// reports whether dir is one of ours.
func (w *watcher) lost(dir string) bool {
	d := w.dirs[dir]
	if d == nil {
		return false
	}
	if d.active {
		_ = w.fs.Remove(dir) // a moved directory's watch would follow the inode
		d.active = false
	}
	return true
}

// retry re-adds pending watches and returns the directories that got one,
// sorted, so their files can be re-checked for anything missed meanwhile.
func (w *watcher) retry() []string {
	var got []string
	for dir, d := range w.dirs {
		if d.active {
			continue
		}
		_ = w.activate(dir, d)
		if d.active {
			got = append(got, dir)
		}
	}
	sort.Strings(got)
	return got
}

// count is the number of inotify watches held (safe from any goroutine).
func (w *watcher) count() int { return len(w.fs.WatchList()) }

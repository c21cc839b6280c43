package cm

// A resource's watches: the inotify watches on the directories of its
// paths (inotify.go) and the path index (pathindex.go) that maps an event
// back to the resources it makes dirty.
import "slices"

// watch adds r's inotify watches and indexes its paths.
func (e *Engine) watch(w *watcher, r Resource) {
	e.addWatches(w, r)
	e.index(r)
}

// unwatch drops r's index entries and its inotify watches.
func (e *Engine) unwatch(w *watcher, r Resource) {
	e.unindex(r)
	e.dropWatches(w, r)
}

// rewatch replaces old by r (same id): the new watches are taken before
// the old are dropped, so a shared directory keeps its watch instead of
// dropping and re-adding it; the index is rebuilt after, since both share
// one id.
func (e *Engine) rewatch(w *watcher, old, r Resource) {
	e.addWatches(w, r)
	e.dropWatches(w, old)
	e.unindex(old)
	e.index(r)
}

// dirsOf lists r's whole-directory watches as watcher paths ("d/.").
func dirsOf(r Resource) []string {
	dw, ok := r.(dirWatcher)
	if !ok {
		return nil
	}
	var out []string
	for _, d := range dw.WatchDirs() {
		out = append(out, d+"/.")
	}
	return out
}

func (e *Engine) addWatches(w *watcher, r Resource) {
	for _, p := range append(r.Watches(), dirsOf(r)...) {
		if err := w.add(p); err != nil {
			e.log.Error("cm: watch", "path", p, "err", err)
		}
	}
}

func (e *Engine) dropWatches(w *watcher, r Resource) {
	for _, p := range append(r.Watches(), dirsOf(r)...) {
		w.remove(p)
	}
}

func (e *Engine) index(r Resource) {
	id := r.ID()
	for _, p := range r.Watches() {
		e.byPath.add(p, id)
	}
	if dw, ok := r.(dirWatcher); ok {
		for _, d := range dw.WatchDirs() {
			if !slices.Contains(e.byDir[d], id) {
				e.byDir[d] = append(e.byDir[d], id)
			}
		}
	}
}

func (e *Engine) unindex(r Resource) {
	del := func(m map[string][]string, k, id string) {
		ids := slices.DeleteFunc(m[k], func(x string) bool { return x == id })
		if len(ids) == 0 {
			delete(m, k)
		} else {
			m[k] = ids
		}
	}
	for _, p := range r.Watches() {
		e.byPath.remove(p, r.ID())
	}
	if dw, ok := r.(dirWatcher); ok {
		for _, d := range dw.WatchDirs() {
			del(e.byDir, d, r.ID())
		}
	}
}

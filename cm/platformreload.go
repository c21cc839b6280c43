package cm

import "path/filepath"

// The platform facts file changes after boot (the fleet agent adds the
// cloud's IMDS facts once the network is up), and templates must see it.
// Its change is a config change: the same settle, validate and converge
// as an edit of a *.toml (reload.go); the reload gathers the facts again
// and every template that reads them converges (take.go). A template
// whose fact is gone fails its resource, naming the key, as at boot.

// WithPlatformFacts sets the platform facts file templates see as
// .facts.platform (default platform.FactsPath(StateDir); "" reads none).
func WithPlatformFacts(path string) Option {
	return func(e *Engine) {
		if path != "" {
			path = filepath.Clean(path)
		}
		e.env.platformFacts = path
	}
}

// watchesPlatformFacts: only an engine that reloads (WithConfigDir) and
// gathers its facts (not WithFacts) watches the file; one without a
// config directory has nothing to reload.
func (e *Engine) watchesPlatformFacts() bool {
	return e.cfgDir != "" && e.env.platformFacts != "" && !e.env.factsFixed
}

// isPlatformEvent reports whether an inotify event is about the platform
// facts file itself. Its directory (/run/unit) also holds the control
// socket, the reports, the fleet token and the writers' temp files: none
// of them reloads.
func (e *Engine) isPlatformEvent(name string) bool {
	return e.watchesPlatformFacts() && name == e.env.platformFacts
}

// watchPlatformFacts puts the watch on the file's directory (shared,
// reference-counted, with managed paths there); a missing directory is a
// pending watch, and its coming is a reload (markDir).
func (e *Engine) watchPlatformFacts(w *watcher) {
	if !e.watchesPlatformFacts() {
		return
	}
	if err := w.add(e.env.platformFacts); err != nil {
		e.log.Error("cm: cannot watch the platform facts; templates see them only on config changes",
			"path", e.env.platformFacts, "err", err)
	}
}

// isPlatformDir reports whether dir holds the watched platform facts file.
func (e *Engine) isPlatformDir(dir string) bool {
	return e.watchesPlatformFacts() && dir == filepath.Dir(e.env.platformFacts)
}

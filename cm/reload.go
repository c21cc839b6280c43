package cm

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"unit/config"
	"unit/event"
)

// reloadSettle lets an editor finish a burst of writes and renames before
// the config directory is read: one timer, armed only after a change.
const reloadSettle = 100 * time.Millisecond

// WithConfigDir makes the engine watch dir (through its one inotify
// instance) and reload the config on any *.toml change. The new set is
// validated as a whole (load and dependency graph); if invalid, the last
// good config keeps running and the error is reported (ConfigError); if
// valid, only changed resources are converged and onGood gets the config
// (the daemon hands the services to the supervisor).
func WithConfigDir(dir string, onGood func(*config.Config)) Option {
	return func(e *Engine) { e.cfgDir, e.onConfig = filepath.Clean(dir), onGood }
}

// isConfigEvent reports whether an inotify event is about the config.
func (e *Engine) isConfigEvent(name string) bool {
	return e.cfgDir != "" && filepath.Dir(name) == e.cfgDir && strings.HasSuffix(name, ".toml") &&
		!strings.HasPrefix(filepath.Base(name), ".")
}

// scheduleReload arms the settle timer (once per burst).
func (e *Engine) scheduleReload() {
	if e.reloadArmed {
		return
	}
	e.reloadArmed = true
	time.AfterFunc(reloadSettle, func() {
		select {
		case e.reloadC <- struct{}{}:
		default:
		}
	})
}

// reload reads and validates the config directory and, if good, takes it.
func (e *Engine) reload(ctx context.Context, w *watcher) {
	e.reloadArmed = false
	cfg, err := config.Load(e.cfgDir)
	if err == nil {
		_, err = buildPlan(cfg, e.env) // the graph must be acyclic too
	}
	if err != nil {
		e.ConfigError(fmt.Errorf("config %s:\n%w", e.cfgDir, err))
		return
	}
	e.mu.Lock()
	e.pending = cfg
	e.mu.Unlock()
	e.takeConfig(ctx, w)
	e.emit(event.Event{Time: time.Now(), Resource: "config", State: "reloaded",
		Message: fmt.Sprintf("%d files", len(cfg.Sources))})
	if e.onConfig != nil {
		go func() {
			defer func() {
				if p := recover(); p != nil {
					e.log.Error("cm: panic in config callback", "panic", p, "stack", string(debug.Stack()))
				}
			}()
			e.onConfig(cfg)
		}()
	}
}

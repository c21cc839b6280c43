package cm

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/event"
)

// reloadSettle lets an editor finish a burst of writes and renames before
// the config directory is read: one timer, armed only after a change.
const reloadSettle = 100 * time.Millisecond

// WithConfigDir makes the engine watch dir (through its one inotify
// instance) and reload the config on any *.toml change, and on a change
// of the platform facts file (platformreload.go). The new set is
// validated as a whole (load and dependency graph); if invalid, the last
// good config keeps running and the error is reported (ConfigError); if
// valid, only changed resources are converged and, once that pass ended,
// onGood gets the config (the daemon hands the services to the supervisor:
// the order of boot, files first, then services).
func WithConfigDir(dir string, onGood func(*config.Config)) Option {
	return func(e *Engine) { e.cfgDir, e.onConfig = filepath.Clean(dir), onGood }
}

// WithLoader sets how a reload loads the config directory: where unit's
// own helpers are (config.Loader), the same as at the daemon's start.
func WithLoader(l config.Loader) Option { return func(e *Engine) { e.loader = l } }

// isConfigEvent reports whether an inotify event is about the config.
// The layers' directory (config.LayerDir) counts: its files, and its
// own creation or removal in the config directory.
func (e *Engine) isConfigEvent(name string) bool {
	if e.cfgDir == "" || strings.HasPrefix(filepath.Base(name), ".") {
		return false
	}
	dir := filepath.Dir(name)
	if dir == e.cfgDir && filepath.Base(name) == config.LayerDir {
		return true
	}
	return (dir == e.cfgDir || dir == e.layerDir()) && strings.HasSuffix(name, ".toml")
}

// layerDir is the config's layers directory.
func (e *Engine) layerDir() string { return filepath.Join(e.cfgDir, config.LayerDir) }

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

// reload reads and validates the config directory and, if good, takes it
// and returns it; the loop hands it to onConfig once the pass that
// converges it ended (handOver).
func (e *Engine) reload(ctx context.Context, w *watcher) *config.Config {
	e.reloadArmed = false
	cfg, err := e.loader.Load(e.cfgDir)
	if err == nil {
		_, err = buildPlan(cfg, e.env) // the graph must be acyclic too
	}
	if err != nil {
		e.ConfigError(fmt.Errorf("config %s:\n%w", e.cfgDir, err))
		return nil
	}
	e.mu.Lock()
	e.pending = cfg
	e.mu.Unlock()
	e.takeConfig(ctx, w)
	e.emit(event.Event{Time: time.Now(), Resource: "config", State: "reloaded",
		Message: fmt.Sprintf("%d files", len(cfg.Sources))})
	return cfg
}

// handOver gives a reloaded config to onConfig (the daemon hands the
// services to the supervisor), after the pass that wrote its files: a new
// service must not start before the file it reads exists. The loop calls
// it; only the latest config waits, so a slow supervisor never gets an
// older config after a newer one.
func (e *Engine) handOver(cfg *config.Config) {
	if e.onConfig == nil {
		return
	}
	for {
		select {
		case e.handC <- cfg:
			return
		default:
		}
		select {
		case <-e.handC: // superseded
		default:
		}
	}
}

// runHandOver calls onConfig for each handed-over config, one at a time,
// off the loop: the supervisor may take a while, and the loop goes on.
func (e *Engine) runHandOver(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case cfg := <-e.handC:
			e.callOnConfig(cfg)
		}
	}
}

func (e *Engine) callOnConfig(cfg *config.Config) {
	defer func() {
		if p := recover(); p != nil {
			e.log.Error("cm: panic in config callback", "panic", p, "stack", string(debug.Stack()))
		}
	}()
	e.onConfig(cfg)
}

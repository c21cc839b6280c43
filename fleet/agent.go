// Package fleet is the node side of unit's fleet on NATS JetStream: it
// follows a node's layers of desired state in a KV bucket and writes them
// into the config directory's layers (config.LayerDir), where unit's
// inotify watch and validate-then-converge path take them. It lives in
// the unit-fleet program, not in unit: NATS's client and TLS would more
// than double every image's PID 1 (docs/fleet.md).
package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/cm"
	"github.com/unit-os/unit/config"
)

// maxLayer bounds a layer's size (a KV value is hostile input).
const maxLayer = 1 << 20

// Agent follows one node's layers.
type Agent struct {
	KV        jetstream.KeyValue
	ConfigDir string   // unit's config directory; layers go to ConfigDir/fleet
	Node      string   // this node's id
	Groups    []string // the groups its facts put it in
	Log       *slog.Logger
	// Applied, when set, is told each layer written or removed (tests,
	// and the status the agent publishes).
	Applied func(key string, revision uint64, removed bool)
}

// Keys are the KV keys of the node's layers.
func (a *Agent) Keys() []string {
	return LayerKeys(a.Node, a.Groups)
}

// Run watches the node's keys and keeps the layer files in step until ctx
// ends: every value is written whole and atomically, a deleted key's file
// is removed, and a layer no key backs any more (after a restart) goes.
// The watch is a JetStream ordered consumer: no polling, and it carries
// on from where it was after a reconnect.
func (a *Agent) Run(ctx context.Context) error {
	if a.Log == nil {
		a.Log = slog.Default()
	}
	for _, k := range a.Keys() {
		if !config.IsLayerFile(k + ".toml") {
			return fmt.Errorf("fleet: %q is not a layer name (letters, digits, - and _)", k)
		}
	}
	dir := filepath.Join(a.ConfigDir, config.LayerDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	w, err := a.KV.WatchFiltered(ctx, a.Keys())
	if err != nil {
		return fmt.Errorf("fleet: watch %v: %w", a.Keys(), err)
	}
	defer w.Stop()
	seen := map[string]bool{}
	initial := true
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("fleet: the watch ended")
			}
			if e == nil {
				// The current values are all in: layers of keys that are
				// gone (deleted while this node was away) go too.
				if initial {
					initial = false
					a.removeStale(dir, seen)
				}
				continue
			}
			seen[e.Key()] = true
			a.apply(dir, e)
		}
	}
}

// apply writes or removes one layer.
func (a *Agent) apply(dir string, e jetstream.KeyValueEntry) {
	path := filepath.Join(dir, e.Key()+".toml")
	switch e.Operation() {
	case jetstream.KeyValueDelete, jetstream.KeyValuePurge:
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			a.Log.Error("fleet: remove layer", "key", e.Key(), "err", err)
			return
		}
		a.Log.Info("fleet: layer removed", "key", e.Key(), "revision", e.Revision())
		if a.Applied != nil {
			a.Applied(e.Key(), e.Revision(), true)
		}
	default:
		v := e.Value()
		if len(v) > maxLayer {
			a.Log.Error("fleet: layer too large; kept the last one", "key", e.Key(), "bytes", len(v))
			return
		}
		if err := cm.WriteFileAtomic(path, v, 0o644, 0, 0); err != nil {
			a.Log.Error("fleet: write layer", "key", e.Key(), "err", err)
			return
		}
		a.Log.Info("fleet: layer written", "key", e.Key(), "revision", e.Revision(), "bytes", len(v))
		if a.Applied != nil {
			a.Applied(e.Key(), e.Revision(), false)
		}
	}
}

// removeStale removes layer files no current key backs.
func (a *Agent) removeStale(dir string, seen map[string]bool) {
	des, _ := os.ReadDir(dir)
	for _, de := range des {
		key, ok := strings.CutSuffix(de.Name(), ".toml")
		if !ok || seen[key] || !config.IsLayerFile(de.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, de.Name())); err == nil {
			a.Log.Info("fleet: stale layer removed", "key", key)
			if a.Applied != nil {
				a.Applied(key, 0, true)
			}
		}
	}
}

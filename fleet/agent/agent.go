// Package agent is what runs on a fleet's node (unit-fleet agent): it
// follows the node's layers of desired state in a KV bucket and writes
// them into the config directory's layers (config.LayerDir), where
// unit's inotify watch and validate-then-converge path take them; it
// publishes the node's health on change, answers signed fan-out
// requests, fetches content by hash, and enrols the node (Run wires it
// all). It lives in the unit-fleet program, not in unit: NATS's client
// and TLS would more than double every image's PID 1 (docs/fleet.md).
package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/fleet"
	"github.com/unit-os/unit/safepath"
)

// maxLayer bounds a layer's size (a KV value is hostile input).
const maxLayer = 1 << 20

// retryMax bounds the pause between attempts to watch while the broker
// cannot be reached (a failure's backoff, not a poll: nothing runs while
// the watches are up).
const retryMax = 30 * time.Second

// Agent follows one node's layers.
type Agent struct {
	// OpenKV opens the bucket of desired state at each (re)start of the
	// watches, so the agent starts, and restores its cached layers, while
	// the broker is still out of reach.
	OpenKV    func(context.Context) (jetstream.KeyValue, error)
	ConfigDir string   // unit's config directory; layers go to ConfigDir/fleet
	Node      string   // this node's id
	Groups    []string // the groups its facts put it in
	// CacheDir keeps the last layers unit's validator accepted (on the
	// data partition), so a node that boots with the broker down
	// converges to them; "" keeps none.
	CacheDir string
	Log      *slog.Logger
	// Applied, when set, is told each layer written or removed (tests,
	// and the status the agent publishes).
	Applied func(key string, revision uint64, removed bool)
	// Kept, when set, is told each time the cache took the layers.
	Kept func()
	// Reconnected gets a value after each reconnect of the connection:
	// the watches are made again from the last applied revisions, after
	// a random pause of up to Jitter (a thousand nodes coming back do not
	// all ask at once), instead of waiting for an ordered consumer's
	// missed heartbeats to notice that its server is gone.
	Reconnected <-chan struct{}
	Jitter      time.Duration
}

// Keys are the KV keys of the node's layers.
func (a *Agent) Keys() []string { return fleet.LayerKeys(a.Node, a.Groups) }

// update is one watch's news: an entry, or its initial values all in.
type update struct {
	key  string
	e    jetstream.KeyValueEntry
	done bool // the watch ended
}

// errRestart says the watches are to be made again.
var errRestart = errors.New("restart the watches")

// Run keeps the layer files in step with the node's keys until ctx ends:
// every value is written whole and atomically (only when its bytes
// changed), a deleted key's file is removed, and a layer no key backs any
// more (deleted while the node was away) goes. One watch per key
// (JetStream ordered consumers, no polling; one key each so that the
// broker's permissions can allow a node its own keys and no others').
// After a reconnect the watches are made again and what they bring that
// is not newer than the revision applied is skipped: a node resumes from
// its last applied revision, without replaying history.
func (a *Agent) Run(ctx context.Context) error {
	if a.Log == nil {
		a.Log = slog.Default()
	}
	if !fleet.ValidNode(a.Node) {
		return fmt.Errorf("fleet: node %q is not a layer name (letters, digits, - and _)", a.Node)
	}
	for _, g := range a.Groups {
		if !fleet.ValidNode(g) {
			return fmt.Errorf("fleet: group %q is not a layer name (letters, digits, - and _)", g)
		}
	}
	dir := filepath.Join(a.ConfigDir, config.LayerDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	a.Restore()
	revs := map[string]uint64{}
	pause := time.Second
	for {
		err := a.follow(ctx, dir, revs)
		if ctx.Err() != nil {
			return nil
		}
		wait := time.Duration(0)
		if a.Jitter > 0 {
			wait = rand.N(a.Jitter)
		}
		if errors.Is(err, errRestart) {
			pause = time.Second
			a.Log.Info("fleet: reconnected; watching again from the applied revisions", "pause", wait)
		} else {
			a.Log.Error("fleet: watch", "err", err, "retry in", pause)
			wait += pause
			pause = min(2*pause, retryMax)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// follow runs one set of watches until ctx ends, a reconnect, or a
// watch fails. revs are the revisions applied, by key.
func (a *Agent) follow(ctx context.Context, dir string, revs map[string]uint64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A reconnect that came before these watches are made is theirs
	// already: it must not make them again at once.
	select {
	case <-a.Reconnected:
	default:
	}
	kv, err := a.OpenKV(ctx)
	if err != nil {
		return fmt.Errorf("open %s: %w", fleet.Bucket, err)
	}
	ch := make(chan update, 64)
	keys := a.Keys()
	for _, k := range keys {
		w, err := kv.Watch(ctx, k)
		if err != nil {
			return fmt.Errorf("watch %s: %w", k, err)
		}
		go forward(ctx, k, w, ch)
	}
	seen := map[string]bool{}
	pending := len(keys) // watches whose current values are not all in
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-a.Reconnected:
			return errRestart
		case u := <-ch:
			switch {
			case u.done:
				return fmt.Errorf("the watch of %s ended", u.key)
			case u.e == nil:
				if pending--; pending == 0 {
					// Every current value is in: layers of keys that are
					// gone (deleted while this node was away, their
					// markers since purged) go too.
					a.removeStale(dir, seen, revs)
					a.keep(dir)
				}
			default:
				seen[u.key] = true
				if u.e.Revision() <= revs[u.key] {
					continue // applied before the reconnect
				}
				revs[u.key] = u.e.Revision()
				a.apply(dir, u.e)
				if pending <= 0 {
					a.keep(dir)
				}
			}
		}
	}
}

// forward passes one watch's updates on, tagged with its key.
func forward(ctx context.Context, key string, w jetstream.KeyWatcher, ch chan<- update) {
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.Updates():
			u := update{key: key, e: e, done: !ok}
			select {
			case ch <- u:
			case <-ctx.Done():
				return
			}
			if !ok {
				return
			}
		}
	}
}

// apply writes or removes one layer.
func (a *Agent) apply(dir string, e jetstream.KeyValueEntry) {
	path := filepath.Join(dir, e.Key()+".toml")
	switch e.Operation() {
	case jetstream.KeyValueDelete, jetstream.KeyValuePurge:
		if err := os.Remove(path); err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				a.Log.Error("fleet: remove layer", "key", e.Key(), "err", err)
			}
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
		// The same bytes again (a resumed watch, a restart) are not a
		// change: unit is not made to reload for nothing.
		if old, err := os.ReadFile(path); err != nil || !bytes.Equal(old, v) {
			if err := safepath.WriteFile(path, v, 0o644, 0, 0); err != nil {
				a.Log.Error("fleet: write layer", "key", e.Key(), "err", err)
				return
			}
			a.Log.Info("fleet: layer written", "key", e.Key(), "revision", e.Revision(), "bytes", len(v))
		}
		if a.Applied != nil {
			a.Applied(e.Key(), e.Revision(), false)
		}
	}
}

// removeStale removes layer files no current key backs.
func (a *Agent) removeStale(dir string, seen map[string]bool, revs map[string]uint64) {
	des, _ := os.ReadDir(dir)
	for _, de := range des {
		key, ok := strings.CutSuffix(de.Name(), ".toml")
		if !ok || seen[key] || !config.IsLayerFile(de.Name()) {
			continue
		}
		delete(revs, key)
		if err := os.Remove(filepath.Join(dir, de.Name())); err == nil {
			a.Log.Info("fleet: stale layer removed", "key", key)
			if a.Applied != nil {
				a.Applied(key, 0, true)
			}
		}
	}
}

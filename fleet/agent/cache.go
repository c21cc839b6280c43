package agent

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/safepath"
	"github.com/unit-os/unit/systemd/translate"
)

// The last good layers, kept on the data partition (Agent.CacheDir): the
// config directory of an image is rebuilt at every boot, and a node must
// converge to its fleet state even when the broker is down then. "Good"
// is what unit's own validator takes: after each change the agent loads
// the whole config directory (config.Load, as unit's reload does) and
// keeps the layers only if it loads. An invalid layer from the broker is
// thus never cached, and a cached one was valid with the local config it
// was kept with.

// keep copies the layers into the cache if the config directory, layers
// included, is valid; layers no longer there leave the cache.
func (a *Agent) keep(dir string) {
	if a.CacheDir == "" {
		return
	}
	if _, err := (config.Loader{Declared: translate.Declared("/")}).Load(a.ConfigDir); err != nil {
		a.Log.Warn("fleet: the layers do not load; the cache keeps the last good ones", "err", err)
		return
	}
	if err := os.MkdirAll(a.CacheDir, 0o700); err != nil {
		a.Log.Error("fleet: layer cache", "err", err)
		return
	}
	layers := readLayers(dir)
	for name, b := range layers {
		path := filepath.Join(a.CacheDir, name)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
			continue
		}
		if err := safepath.WriteFile(path, b, 0o600, 0, 0); err != nil {
			a.Log.Error("fleet: layer cache", "err", err)
		}
	}
	for name := range readLayers(a.CacheDir) {
		if _, ok := layers[name]; !ok {
			os.Remove(filepath.Join(a.CacheDir, name))
		}
	}
	if a.Kept != nil {
		a.Kept()
	}
}

// Restore puts cached layers the config directory lacks back into it,
// before the broker is asked (Run does it first; a program that must
// enrol before it can connect calls it earlier): a node that boots with
// the broker down converges to its last good fleet state; the watches
// then correct it.
func (a *Agent) Restore() {
	if a.CacheDir == "" {
		return
	}
	if a.Log == nil {
		a.Log = slog.Default()
	}
	dir := filepath.Join(a.ConfigDir, config.LayerDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		a.Log.Error("fleet: restore cached layers", "err", err)
		return
	}
	for name, b := range readLayers(a.CacheDir) {
		path := filepath.Join(dir, name)
		if _, err := os.Lstat(path); err == nil {
			continue
		}
		if err := safepath.WriteFile(path, b, 0o644, 0, 0); err != nil {
			a.Log.Error("fleet: restore cached layer", "layer", name, "err", err)
			continue
		}
		a.Log.Info("fleet: cached layer restored", "layer", name)
	}
}

// readLayers reads the layer files of dir (regular files only, bounded;
// a link is not followed).
func readLayers(dir string) map[string][]byte {
	out := map[string][]byte{}
	des, _ := os.ReadDir(dir)
	for _, de := range des {
		if !de.Type().IsRegular() || !config.IsLayerFile(de.Name()) {
			continue
		}
		f, err := os.OpenFile(filepath.Join(dir, de.Name()), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
		if err != nil {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(f, maxLayer+1))
		f.Close()
		if err == nil && len(b) <= maxLayer {
			out[de.Name()] = b
		}
	}
	return out
}

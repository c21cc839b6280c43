package operator

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/unit-os/unit/config"
)

// MaxLayer is the largest layer put: a node reads one whole.
const MaxLayer = 1 << 20

// LayerKey checks a layer's key: all, group.G or node.ID.
func LayerKey(key string) error {
	if !config.IsLayerFile(key + ".toml") {
		return fmt.Errorf("key %q: expected all, group.NAME or node.ID (letters, digits, - and _)", key)
	}
	return nil
}

// ReadLayer reads a layer from file ("-": from stdin), at most MaxLayer
// bytes: one larger is refused, not cut.
func ReadLayer(file string, stdin io.Reader) ([]byte, error) {
	r := stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, MaxLayer+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxLayer {
		return nil, errors.New("a layer is at most 1 MiB")
	}
	return b, nil
}

// CheckLayer loads the layer in file as a config of its own, so a
// mistake is told with its file:line before any node sees it (each node
// checks it again with its own config, and keeps its last good one if
// it fails).
func CheckLayer(file string) error {
	_, err := config.LoadFiles(file)
	return err
}

package config

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// LayerDir is the config directory's subdirectory of layers: desired
// state from elsewhere (the fleet), merged over the local files. A layer
// is all.toml, group.NAME.toml or node.NAME.toml; a resource (or a
// single table such as [system]) defined in a higher layer replaces the
// same one below it, whole: node > group > all > the local files. Inside
// one layer, two definitions are still an error.
const LayerDir = "fleet"

// VendorDir is where an image keeps what its packages declare
// (/usr/lib/unit/declared.toml, written by the image build): every
// *.toml there is the vendor layer, below the local files. A resource or
// single table the local files or the fleet's layers define replaces
// the vendor one whole.
const VendorDir = "/usr/lib/unit"

// vendorRank is the vendor layer's rank, under the local files' 0.
const vendorRank = -1

// vendorFiles lists dir's *.toml in name order; a missing dir has none.
func vendorFiles(dir string) ([]rankedPath, error) {
	if dir == "" {
		return nil, nil
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.toml"))
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	sort.Strings(paths)
	out := make([]rankedPath, len(paths))
	for i, p := range paths {
		out[i] = rankedPath{p, vendorRank}
	}
	return out, nil
}

// IsLayerFile says whether name (a file name, no directory) is a layer:
// all.toml, group.NAME.toml or node.NAME.toml.
func IsLayerFile(name string) bool {
	_, ok := layerRank(name)
	return ok
}

// layerRank is a layer file's rank: all 1, group 2, node 3 (local 0,
// vendor -1).
func layerRank(name string) (int, bool) {
	base, ok := strings.CutSuffix(name, ".toml")
	if !ok {
		return 0, false
	}
	switch {
	case base == "all":
		return 1, true
	case strings.HasPrefix(base, "group.") && IsName(strings.TrimPrefix(base, "group.")):
		return 2, true
	case strings.HasPrefix(base, "node.") && IsName(strings.TrimPrefix(base, "node.")):
		return 3, true
	}
	return 0, false
}

// IsName says whether s is a short bare name: letters, digits, - and _
// (a TOML bare key), at most 64 bytes; layer names and fact keys are.
func IsName(s string) bool { return len(s) <= 64 && isBareKey(s) }

// rankedPath is a file to load and its layer.
type rankedPath struct {
	path string
	rank int
}

// layerFiles lists dir/fleet's layers, lowest first; a file there that
// is not a layer is an error (it would otherwise be silently ignored).
func layerFiles(dir string) ([]rankedPath, error) {
	des, err := os.ReadDir(filepath.Join(dir, LayerDir))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", filepath.Join(dir, LayerDir), err)
	}
	var out []rankedPath
	for _, de := range des {
		name := de.Name()
		if strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".toml") {
			continue // editors' and writers' temporary files
		}
		rank, ok := layerRank(name)
		if !ok || !de.Type().IsRegular() {
			return nil, fmt.Errorf("%s: a layer is a file all.toml, group.NAME.toml or node.NAME.toml", filepath.Join(dir, LayerDir, name))
		}
		out = append(out, rankedPath{filepath.Join(dir, LayerDir, name), rank})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].rank != out[j].rank {
			return out[i].rank < out[j].rank
		}
		return out[i].path < out[j].path
	})
	return out, nil
}

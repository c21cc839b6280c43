package pkgbuild

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/unit-os/unit/safepath"
)

// aptState is what a Debian resolution depends on besides the recipe:
// apt's configuration (sources, preferences), its package lists and dpkg's
// status. When none of them changed, neither did apt's answer.
var aptState = []string{"/etc/apt", "/var/lib/apt/lists", "/var/lib/dpkg/status"}

// memoResolve returns what resolve gave last time for the same source and
// the same state of the files in state (names, sizes, mtimes), and calls
// resolve only when something changed. A no-change build then spawns no
// apt process at all.
func (b *Builder) memoResolve(s Source, state []string, resolve func() (SourceID, error)) (SourceID, error) {
	h := sha256.New()
	json.NewEncoder(h).Encode(s)
	for _, p := range state {
		fingerprint(h, p)
	}
	path := filepath.Join(b.cache, "resolved", hex.EncodeToString(h.Sum(nil))[:32]+".json")
	var id SourceID
	if data, err := os.ReadFile(path); err == nil && json.Unmarshal(data, &id) == nil && id.Kind != "" {
		return id, nil
	}
	id, err := resolve()
	if err != nil {
		return id, err
	}
	data, _ := json.Marshal(id)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
		// A memo that cannot be kept is only a lost shortcut (and a
		// failed write leaves no temp file behind).
		_ = safepath.WriteFile(path, data, 0o644, -1, -1, safepath.Trusted(), safepath.AsCreated())
	}
	return id, nil
}

// fingerprint writes the name, size and mtime of path and everything under
// it (apt's partial downloads and locks excluded) into h.
func fingerprint(h interface{ Write([]byte) (int, error) }, path string) {
	filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			fmt.Fprintf(h, "%s!\n", p)
			return nil
		}
		if d.IsDir() && (d.Name() == "partial" || d.Name() == "auxfiles") {
			return filepath.SkipDir
		}
		if d.Name() == "lock" {
			return nil
		}
		if info, err := d.Info(); err == nil {
			fmt.Fprintf(h, "%s %d %d\n", p, info.Size(), info.ModTime().UnixNano())
		}
		return nil
	})
}

package image

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/unit-os/unit/config"
)

// fleetEntry is /bin/unit-fleet for a system with [fleet] agent = true:
// the fleet's agent is its own program (NATS's client and TLS stay out
// of /init), and only such a system carries it.
func fleetEntry(path string, at config.Pos) (entry, *File, error) {
	if path == "" {
		return entry{}, nil, fmt.Errorf("%s: [fleet] agent = true needs the unit-fleet program: `make fleet` puts it beside unit (bin/unit-fleet), or pass --fleet PATH", at)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return entry{}, nil, fmt.Errorf("%s: [fleet] agent = true: the unit-fleet program: %w", at, err)
	}
	sum := sha256.Sum256(b)
	return entry{Name: "bin/unit-fleet", Mode: 0o755, Data: b},
		&File{Name: "bin/unit-fleet", Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])}, nil
}

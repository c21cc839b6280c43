package content

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// Blob is one blob the store holds.
type Blob struct {
	Sum  string // 64 hex digits
	Size int64
}

// List is every blob of the store, by sum; objects not named by a
// sha256 (none are, unless someone put them by hand) are left out.
func (s *Store) List(ctx context.Context) ([]Blob, error) {
	infos, err := s.obs.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: list: %w", s.name, err)
	}
	var blobs []Blob
	for _, info := range infos {
		sum, ok := strings.CutPrefix(info.Name, "sha256-")
		if _, err := parseSum(sum); !ok || err != nil || info.Deleted {
			continue
		}
		blobs = append(blobs, Blob{Sum: sum, Size: int64(info.Size)})
	}
	sort.Slice(blobs, func(i, j int) bool { return blobs[i].Sum < blobs[j].Sum })
	return blobs, nil
}

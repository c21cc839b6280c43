package operator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/fleet"
	"github.com/unit-os/unit/fleet/content"
)

// PutContent stores the file at path under its hash and returns the
// name; content already there is not sent again (content.Store.Put,
// which checks the bytes against the name once more as they go).
func PutContent(ctx context.Context, obs jetstream.ObjectStore, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	sum := h.Sum(nil)
	if err := content.New(obs, fleet.ContentBucket).Put(ctx, hex.EncodeToString(sum), f, size); err != nil {
		return "", fmt.Errorf("put %s: %w", path, err)
	}
	return fleet.ContentName(sum), nil
}

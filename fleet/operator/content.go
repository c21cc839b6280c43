package operator

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/fleet"
)

// PutContent stores the file at path under its hash and returns the
// name; content already there is not sent again.
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
	name := fleet.ContentName(h.Sum(nil))
	if info, err := obs.GetInfo(ctx, name); err == nil && int64(info.Size) == size {
		return name, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	if _, err := obs.Put(ctx, jetstream.ObjectMeta{Name: name}, f); err != nil {
		return "", fmt.Errorf("put %s: %w", path, err)
	}
	return name, nil
}

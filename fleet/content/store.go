// Package content is the fleet's content store as a place blobs are
// fetched from and written to by their sha256 (cas.Source, cas.Putter):
// the JetStream object store fleet.ContentBucket, where each blob is the
// object fleet.ContentName of its hash, as the update bundles nodes fetch.
// unit reaches it through `unit-fleet content get|put` (cas's helper
// programs), so PID 1 links no NATS. Nothing the store returns is
// trusted, and nothing is stored under a name its bytes do not hash to.
package content

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/cas"
	"github.com/unit-os/unit/fleet"
)

// MaxBlob bounds a blob, either way (the largest .deb in Debian, a
// kernel's debug symbols, is under 1 GiB; an update bundle a few).
const MaxBlob = 4 << 30

// stallTimeout is how long a get or put may go without a byte moving
// before it is given up: a blob's size has no fixed time, a stall does.
const stallTimeout = time.Minute

// Store is an object store of blobs by sha256.
type Store struct {
	obs  jetstream.ObjectStore
	name string
	max  int64         // MaxBlob; tests lower it
	idle time.Duration // stallTimeout
}

var (
	_ cas.Source = (*Store)(nil)
	_ cas.Putter = (*Store)(nil)
)

// New is the store of obs, named name in errors (its URL).
func New(obs jetstream.ObjectStore, name string) *Store {
	return &Store{obs: obs, name: name, max: MaxBlob, idle: stallTimeout}
}

// Open opens the object store bucket on nc.
func Open(ctx context.Context, nc *nats.Conn, bucket, name string) (*Store, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	obs, err := js.ObjectStore(ctx, bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("%s: object store %s: not found (unit-fleet-server serve makes %s)", name, bucket, fleet.ContentBucket)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: object store %s: %w", name, bucket, err)
	}
	return New(obs, name), nil
}

// String names the store (cas.Source).
func (s *Store) String() string { return s.name }

// parseSum decodes the name of a blob, which must be 64 lower-case hex
// digits.
func parseSum(sum string) ([]byte, error) {
	b, err := hex.DecodeString(sum)
	if err != nil || len(b) != sha256.Size || hex.EncodeToString(b) != sum {
		return nil, fmt.Errorf("blob %q: expected a sha256, 64 lower-case hex digits", sum)
	}
	return b, nil
}

// IsSum says whether name names a blob: 64 lower-case hex digits.
func IsSum(name string) bool {
	_, err := parseSum(name)
	return err == nil
}

// digest is the object store's digest of a blob whose hash is sum (what
// its client writes in an object's meta).
func digest(sum []byte) string { return "SHA-256=" + base64.URLEncoding.EncodeToString(sum) }

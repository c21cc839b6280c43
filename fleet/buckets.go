package fleet

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// EnsureBuckets makes (or brings up to date) the fleet's buckets; serve
// calls it with admin credentials. The status bucket refuses rollups: a
// node may put its own status key, and a put with "Nats-Rollup: all" on
// it would otherwise purge every key of the bucket (other nodes' status,
// the operators' maintenance marks). Nobody purges a status key (a
// maintenance mark is deleted), so nothing else changes.
func EnsureBuckets(ctx context.Context, js jetstream.JetStream) error {
	if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: Bucket, History: 5, Storage: jetstream.FileStorage}); err != nil {
		return fmt.Errorf("bucket %s: %w", Bucket, err)
	}
	if err := ensureStatusBucket(ctx, js); err != nil {
		return fmt.Errorf("bucket %s: %w", StatusBucket, err)
	}
	if _, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: ContentBucket, Storage: jetstream.FileStorage}); err != nil {
		return fmt.Errorf("object store %s: %w", ContentBucket, err)
	}
	for _, stream := range []string{KVStream(Bucket), "OBJ_" + ContentBucket} {
		if err := allowConsumers(ctx, js, stream); err != nil {
			return fmt.Errorf("stream %s: %w", stream, err)
		}
	}
	return nil
}

// ensureStatusBucket makes the status bucket if it is missing, then sets
// its stream's history to 1 and takes rollups away. Not
// CreateOrUpdateKeyValue each time: that would allow rollups again until
// the update.
func ensureStatusBucket(ctx context.Context, js jetstream.JetStream) error {
	s, err := js.Stream(ctx, KVStream(StatusBucket))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: StatusBucket, History: 1, Storage: jetstream.FileStorage})
		if err != nil && !errors.Is(err, jetstream.ErrBucketExists) {
			return err
		}
		s, err = js.Stream(ctx, KVStream(StatusBucket))
	}
	if err != nil {
		return err
	}
	sc := s.CachedInfo().Config
	if sc.AllowRollup || sc.MaxMsgsPerSubject != 1 {
		sc.AllowRollup, sc.MaxMsgsPerSubject = false, 1
		if _, err := js.UpdateStream(ctx, sc); err != nil {
			return err
		}
	}
	return nil
}

// maxConsumers is how many consumers the fleet's streams allow: every
// node watches each of its layer keys with a consumer of its own (3 per
// node in most fleets), and fetches content with one. nats-server's
// default, 1,000 per stream, let only 333 nodes follow (bench/fleet).
const maxConsumers = 1 << 20

// allowConsumers raises a stream's consumer limit to maxConsumers.
func allowConsumers(ctx context.Context, js jetstream.JetStream, name string) error {
	s, err := js.Stream(ctx, name)
	if err != nil {
		return err
	}
	sc := s.CachedInfo().Config
	if sc.MaxConsumers == maxConsumers {
		return nil
	}
	sc.MaxConsumers = maxConsumers
	_, err = js.UpdateStream(ctx, sc)
	return err
}

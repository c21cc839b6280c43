package agent

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/fleet"
)

// TestEnsureBuckets: the fleet's buckets are made, twice without harm,
// and the streams nodes follow allow far more than nats-server's default
// 1,000 consumers (3 watches a node: 333 nodes).
func TestEnsureBuckets(t *testing.T) {
	s, _ := embedded(t)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	for range 2 {
		if err := fleet.EnsureBuckets(ctx, js); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"KV_" + fleet.Bucket, "OBJ_" + fleet.ContentBucket} {
		st, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if mc := st.CachedInfo().Config.MaxConsumers; mc < 100000 {
			t.Errorf("%s allows %d consumers", name, mc)
		}
	}
}

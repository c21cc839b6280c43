package operator

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/fleet"
	"github.com/unit-os/unit/fleet/fleettest"
)

// TestExpect: the nodes expected are those whose last status matches the
// filter, node=ID included; a broker without the status bucket expects
// none.
func TestExpect(t *testing.T) {
	nc := fleettest.Broker(t)
	ctx := context.Background()
	if got := Expect(ctx, nc, nil); got != nil {
		t.Errorf("no status bucket: expected %v", got)
	}
	js, _ := jetstream.New(nc)
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: fleet.StatusBucket})
	if err != nil {
		t.Fatal(err)
	}
	for n, role := range map[string]string{"web-1": "web", "web-2": "web", "db-1": "db"} {
		b, _ := json.Marshal(fleet.NodeStatus{Node: n, Facts: map[string]string{"role": role}})
		if _, err := kv.Put(ctx, "node."+n, b); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		where map[string]string
		want  []string
	}{
		{nil, []string{"db-1", "web-1", "web-2"}},
		{map[string]string{"role": "web"}, []string{"web-1", "web-2"}},
		{map[string]string{"node": "db-1"}, []string{"db-1"}},
		{map[string]string{"role": "mail"}, nil},
	} {
		if got := Expect(ctx, nc, c.where); !slices.Equal(got, c.want) {
			t.Errorf("Expect(%v) = %v, want %v", c.where, got, c.want)
		}
	}
}

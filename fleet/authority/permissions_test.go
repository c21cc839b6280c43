package authority

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/fleet"
	"github.com/unit-os/unit/fleet/agent"
	"github.com/unit-os/unit/fleet/operator"
)

// enrolled enrols node with groups through a fresh token and connects
// it as the agent will, reporting its permission violations to v.
func (f *secureFleet) enrolled(t *testing.T, node string, groups []string, v violations) *nats.Conn {
	t.Helper()
	nc, _ := f.enrolledCreds(t, node, groups, v)
	return nc
}

// enrolledCreds is enrolled, with the node's credentials.
func (f *secureFleet) enrolledCreds(t *testing.T, node string, groups []string, v violations) (*nats.Conn, *agent.Creds) {
	t.Helper()
	tok, err := f.a.Token(groups, 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := agent.Enroll(ctx, f.url, tok, node, groups, filepath.Join(t.TempDir(), "creds"))
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(f.url, append(c.Options(node), nats.ErrorHandler(v.handler))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc, c
}

// watchValue watches one key and returns its current value, then the
// next one it brings.
func watchValue(t *testing.T, ctx context.Context, kv jetstream.KeyValue, key string, opts ...jetstream.WatchOpt) (jetstream.KeyWatcher, string) {
	t.Helper()
	w, err := kv.Watch(ctx, key, opts...)
	if err != nil {
		t.Fatalf("watch %s: %v", key, err)
	}
	var got string
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				t.Fatalf("watch %s ended", key)
			}
			if e == nil {
				return w, got
			}
			got = string(e.Value())
		case <-time.After(30 * time.Second):
			t.Fatalf("watch %s: no initial values", key)
		}
	}
}

func nextValue(t *testing.T, w jetstream.KeyWatcher) string {
	t.Helper()
	select {
	case e, ok := <-w.Updates():
		if !ok || e == nil {
			t.Fatalf("the watch ended or repeated its marker")
		}
		return string(e.Value())
	case <-time.After(30 * time.Second):
		t.Fatal("the watch brought nothing")
		return ""
	}
}

// TestNodePermissions: an enrolled node, connected as the agent is, over
// TLS with its own creds, watches all, its groups and itself (and sees
// what an admin puts, also when resumed from a revision), puts its own
// status, answers fan-out requests; and the broker refuses it everything
// else the agent never does.
func TestNodePermissions(t *testing.T) {
	f := newSecureFleet(t)
	ctx := context.Background()
	desired := f.kv(t, fleet.Bucket)
	for _, k := range []string{"all", "group.web", "group.db", "node.n1", "node.n2"} {
		if _, err := desired.Put(ctx, k, []byte("# "+k+" v1\n")); err != nil {
			t.Fatal(err)
		}
	}
	v := make(violations, 64)
	nc := f.enrolled(t, "n1", []string{"web"}, v)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := agent.NodeKV(nc, fleet.Bucket)
	if err != nil {
		t.Fatal(err)
	}

	// The agent's watches, one per key.
	wctx, stop := context.WithCancel(ctx)
	for _, k := range fleet.LayerKeys("n1", []string{"web"}) {
		w, got := watchValue(t, wctx, kv, k)
		if want := "# " + k + " v1\n"; got != want {
			t.Errorf("watch %s: %q, want %q", k, got, want)
		}
		rev, err := desired.Put(ctx, k, []byte("# "+k+" v2\n"))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := nextValue(t, w), "# "+k+" v2\n"; got != want {
			t.Errorf("watch %s after a put: %q, want %q", k, got, want)
		}
		w.Stop()
		// Made again, as after a reconnect: the latest value.
		rw, got := watchValue(t, wctx, kv, k)
		if want := "# " + k + " v2\n"; got != want {
			t.Errorf("watch %s again: %q, want %q", k, got, want)
		}
		if e, err := desired.Get(ctx, k); err != nil || e.Revision() != rev {
			t.Errorf("%s: %v, revision %d", k, err, rev)
		}
		rw.Stop()
	}
	stop()

	// A burst big enough for the ordered consumer's flow control (its
	// replies go back through the allow-responses permission).
	w, _ := watchValue(t, ctx, kv, "node.n1")
	big := make([]byte, 200<<10)
	for i := range 40 {
		big[0] = byte(i)
		if _, err := desired.Put(ctx, "node.n1", big); err != nil {
			t.Fatal(err)
		}
	}
	for range 40 {
		if len(nextValue(t, w)) != len(big) {
			t.Fatal("a short value")
		}
	}
	w.Stop()

	// Its own status.
	skv, err := agent.NodeKV(nc, fleet.StatusBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := skv.Put(ctx, fleet.StatusKey("n1"), []byte(`{"node":"n1"}`)); err != nil {
		t.Fatalf("put its own status: %v", err)
	}

	// Its own status key cannot purge the others' (a rollup).
	if _, err := f.kv(t, fleet.StatusBucket).Put(ctx, fleet.MaintenanceKey("n2"), []byte(`{"reason":"test"}`)); err != nil {
		t.Fatal(err)
	}
	roll := nats.NewMsg(fleet.KVSubject(fleet.StatusBucket, fleet.StatusKey("n1")))
	roll.Header.Set(jetstream.MsgRollup, jetstream.MsgRollupAll)
	roll.Data = []byte(`{"node":"n1"}`)
	if _, err := js.PublishMsg(ctx, roll); err == nil || !strings.Contains(err.Error(), "rollup not permitted") {
		t.Errorf("a rollup of the status bucket: %v", err)
	}
	if _, err := f.kv(t, fleet.StatusBucket).Get(ctx, fleet.MaintenanceKey("n2")); err != nil {
		t.Errorf("a maintenance mark after a node's rollup: %v", err)
	}

	// Fan-out: it answers once, to the asker's inbox.
	sub, err := nc.Subscribe(fleet.RPCSubject, func(m *nats.Msg) {
		b, _ := json.Marshal(fleet.Reply{Node: "n1"})
		m.Respond(b)
	})
	if err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	res, err := operator.Ask(ctx, f.admin, fleet.Request{Cmd: "ping"}, time.Minute, 2*time.Minute, []string{"n1"}, nil)
	if err != nil || len(res.Replies) != 1 || res.Replies[0].Node != "n1" {
		t.Fatalf("fan-out: %+v %v", res, err)
	}
	v.none(t, nc)

	// What it may not do.
	v.refused(t, "put desired state", "$KV.unit-desired.all", func(ctx context.Context) error {
		_, err := kv.Put(ctx, "all", []byte("x"))
		return err
	})
	v.refused(t, "put its own layer", "$KV.unit-desired.node.n1", func(ctx context.Context) error {
		_, err := kv.Put(ctx, "node.n1", []byte("x"))
		return err
	})
	v.refused(t, "delete its own layer", "$KV.unit-desired.node.n1", func(ctx context.Context) error {
		m := nats.NewMsg("$KV.unit-desired.node.n1")
		m.Header.Set("KV-Operation", "DEL")
		_, err := js.PublishMsg(ctx, m)
		return err
	})
	v.refused(t, "purge a group's layer", "$KV.unit-desired.group.web", func(ctx context.Context) error {
		m := nats.NewMsg("$KV.unit-desired.group.web")
		m.Header.Set("KV-Operation", "PURGE")
		m.Header.Set(jetstream.MsgRollup, jetstream.MsgRollupSubject)
		_, err := js.PublishMsg(ctx, m)
		return err
	})
	v.refused(t, "watch another node", "$KV.unit-desired.node.n2", func(ctx context.Context) error {
		_, err := kv.Watch(ctx, "node.n2")
		return err
	})
	v.refused(t, "watch a group it is not in", "$KV.unit-desired.group.db", func(ctx context.Context) error {
		_, err := kv.Watch(ctx, "group.db")
		return err
	})
	v.refused(t, "watch every key", "$KV.unit-desired.>", func(ctx context.Context) error {
		_, err := kv.Watch(ctx, ">")
		return err
	})
	v.refused(t, "watch several keys in one", "$JS.API.CONSUMER.CREATE.KV_unit-desired", func(ctx context.Context) error {
		_, err := kv.WatchFiltered(ctx, []string{"node.n1", "node.n2"})
		return err
	})
	v.refused(t, "get another node's key", "$JS.API.DIRECT.GET.KV_unit-desired", func(ctx context.Context) error {
		_, err := nc.RequestWithContext(ctx, "$JS.API.DIRECT.GET.KV_unit-desired.$KV.unit-desired.node.n2", nil)
		return err
	})
	v.refused(t, "list the keys", "$JS.API.CONSUMER.CREATE.KV_unit-desired", func(ctx context.Context) error {
		_, err := kv.WatchFiltered(ctx, []string{"node.*", "group.*"})
		return err
	})
	// What a node may enumerate: nothing. The buckets' stream info, with
	// a subjects filter, would list every layer key and every node.
	v.refused(t, "list the layer keys in the stream's info", "$JS.API.STREAM.INFO.KV_unit-desired", func(ctx context.Context) error {
		_, err := nc.RequestWithContext(ctx, "$JS.API.STREAM.INFO.KV_unit-desired", []byte(`{"subjects_filter":">"}`))
		return err
	})
	v.refused(t, "list the nodes in the status stream's info", "$JS.API.STREAM.INFO.KV_unit-status", func(ctx context.Context) error {
		_, err := nc.RequestWithContext(ctx, "$JS.API.STREAM.INFO.KV_unit-status", []byte(`{"subjects_filter":">"}`))
		return err
	})
	v.refused(t, "open the bucket as jetstream does", "$JS.API.STREAM.INFO.KV_unit-desired", func(ctx context.Context) error {
		_, err := js.KeyValue(ctx, fleet.Bucket)
		return err
	})
	v.refused(t, "list the streams", "$JS.API.STREAM.LIST", func(ctx context.Context) error {
		_, err := nc.RequestWithContext(ctx, "$JS.API.STREAM.LIST", nil)
		return err
	})
	v.refused(t, "list the consumers", "$JS.API.CONSUMER.LIST.KV_unit-desired", func(ctx context.Context) error {
		_, err := nc.RequestWithContext(ctx, "$JS.API.CONSUMER.LIST.KV_unit-desired", nil)
		return err
	})
	v.refused(t, "subscribe to the bucket's subjects", "$KV.unit-desired.>", func(ctx context.Context) error {
		sub, err := nc.SubscribeSync("$KV.unit-desired.>")
		if err != nil {
			return err
		}
		_, err = sub.NextMsgWithContext(ctx)
		return err
	})
	v.refused(t, "put another node's status", "$KV.unit-status.node.n2", func(ctx context.Context) error {
		_, err := skv.Put(ctx, fleet.StatusKey("n2"), []byte(`{"node":"n2"}`))
		return err
	})
	v.refused(t, "put its maintenance", "$KV.unit-status.maintenance.n1", func(ctx context.Context) error {
		_, err := skv.Put(ctx, fleet.MaintenanceKey("n1"), []byte(`{}`))
		return err
	})
	v.refused(t, "read the status bucket", "$JS.API.CONSUMER.CREATE.KV_unit-status", func(ctx context.Context) error {
		_, err := skv.Watch(ctx, ">")
		return err
	})
	v.refused(t, "publish a fan-out request", fleet.RPCSubject, func(ctx context.Context) error {
		_, err := nc.RequestWithContext(ctx, fleet.RPCSubject, []byte(`{"cmd":"restart","name":"sshd"}`))
		return err
	})
	v.refused(t, "publish to another's inbox", "_INBOX.forged", func(ctx context.Context) error {
		if err := nc.Publish("_INBOX.forged", []byte("{}")); err != nil {
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	})
	v.refused(t, "subscribe to another node's inbox", "_INBOX_n2.>", func(ctx context.Context) error {
		sub, err := nc.SubscribeSync("_INBOX_n2.>")
		if err != nil {
			return err
		}
		_, err = sub.NextMsgWithContext(ctx)
		return err
	})
	v.refused(t, "subscribe to enrolments", fleet.EnrollSubject, func(ctx context.Context) error {
		sub, err := nc.SubscribeSync(fleet.EnrollSubject)
		if err != nil {
			return err
		}
		_, err = sub.NextMsgWithContext(ctx)
		return err
	})
	v.refused(t, "create a stream", "$JS.API.STREAM.CREATE.evil", func(ctx context.Context) error {
		_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "evil", Subjects: []string{"evil.>"}})
		return err
	})
	v.refused(t, "delete the bucket", "$JS.API.STREAM.DELETE.KV_unit-desired", func(ctx context.Context) error {
		return js.DeleteKeyValue(ctx, fleet.Bucket)
	})
	v.refused(t, "create a durable consumer", "$JS.API.CONSUMER.CREATE.KV_unit-desired.durable", func(ctx context.Context) error {
		_, err := js.CreateOrUpdateConsumer(ctx, fleet.KVStream(fleet.Bucket), jetstream.ConsumerConfig{Durable: "durable"})
		return err
	})

	// Nothing of this reached desired state.
	for _, k := range []string{"all", "node.n1", "group.web"} {
		if e, err := desired.Get(ctx, k); err != nil || len(e.Value()) == 0 || e.Value()[0] == 'x' {
			t.Errorf("%s after the refusals: %v", k, err)
		}
	}
	sub.Unsubscribe()
}

// TestNodePermissionsRefuseBadNames: a node id or group that is not a
// layer name cannot widen a node's subjects.
func TestNodePermissionsRefuseBadNames(t *testing.T) {
	p := fleet.NodePermissions(">", nil)
	if len(p.Pub.Allow) != 0 || len(p.Sub.Allow) != 0 || len(p.Pub.Deny) != 1 || p.Pub.Deny[0] != ">" {
		t.Errorf("an invalid node: %+v", p)
	}
	p = fleet.NodePermissions("n1", []string{"*", "web", "a.b"})
	web := false
	for _, s := range p.Pub.Allow {
		if strings.Contains(s, "group.*") || strings.Contains(s, "group.a.b") {
			t.Errorf("an invalid group widened the permissions: %s", s)
		}
		web = web || strings.HasSuffix(s, ".$KV.unit-desired.group.web")
	}
	if !web {
		t.Errorf("the valid group is missing: %v", p.Pub.Allow)
	}
}

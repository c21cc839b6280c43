package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/event"
	"github.com/unit-os/unit/fleet"
	"github.com/unit-os/unit/fleet/operator"
)

// liveUnit is a fake unit whose services can change: status answers
// what it holds, events tells each change.
type liveUnit struct {
	mu       sync.Mutex
	services []api.ServiceStatus
	events   chan event.Event
}

func newLiveUnit(t *testing.T, name string) (*liveUnit, string) {
	t.Helper()
	u := &liveUnit{services: []api.ServiceStatus{{Name: name, State: "running", Enabled: true}}, events: make(chan event.Event, 16)}
	sock := unitSocket(t, func(ctx context.Context, req api.Request, send func(any) error) error {
		switch req.Cmd {
		case "status":
			u.mu.Lock()
			defer u.mu.Unlock()
			return send(api.StatusReply{Services: append([]api.ServiceStatus(nil), u.services...)})
		case "events":
			for {
				select {
				case <-ctx.Done():
					return nil
				case e := <-u.events:
					if send(e) != nil {
						return nil
					}
				}
			}
		}
		return nil
	})
	return u, sock
}

// set changes the service's state and says so, as unit does.
func (u *liveUnit) set(state, exit string) {
	u.mu.Lock()
	u.services[0].State, u.services[0].LastExit = state, exit
	name := u.services[0].Name
	u.mu.Unlock()
	u.events <- event.Event{Time: time.Now(), Resource: "service:" + name, State: state}
}

// waitStatus waits until the node's published status satisfies ok.
func waitStatus(t *testing.T, kv jetstream.KeyValue, node string, ok func(fleet.NodeStatus) bool) fleet.NodeStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w, err := kv.Watch(ctx, fleet.StatusKey(node))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for {
		select {
		case e := <-w.Updates():
			if e == nil {
				continue
			}
			var ns fleet.NodeStatus
			if json.Unmarshal(e.Value(), &ns) == nil && ok(ns) {
				return ns
			}
		case <-ctx.Done():
			t.Fatalf("%s never published the status waited for", node)
		}
	}
}

// TestStatusAndCheck: each node publishes its verdict on change (a
// service failing is CRITICAL in the bucket without any timer), the
// aggregated check counts the nodes by state with the ones behind each
// non-OK state, a node that stops answering is UNKNOWN, and one in
// maintenance is not alerted on.
func TestStatusAndCheck(t *testing.T) {
	s, _ := embedded(t)
	ctx := context.Background()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: fleet.StatusBucket})
	if err != nil {
		t.Fatal(err)
	}
	units := map[string]*liveUnit{}
	stops := map[string]context.CancelFunc{}
	for _, n := range []string{"web-1", "web-2", "db-1"} {
		role := strings.Split(n, "-")[0]
		u, sock := newLiveUnit(t, role)
		units[n] = u
		nnc, err := nats.Connect(s.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nnc.Close)
		njs, _ := jetstream.New(nnc)
		nkv, _ := njs.KeyValue(ctx, fleet.StatusBucket)
		facts := map[string]string{"role": role}
		rctx, cancel := context.WithCancel(ctx)
		stops[n] = cancel
		t.Cleanup(cancel)
		rep := &Reporter{KV: nkv, Node: n, Facts: facts, Socket: sock, Log: quiet()}
		go rep.Run(rctx)
		resp := &Responder{NC: nnc, Node: n, Facts: facts, Socket: sock}
		go resp.Serve(rctx)
		nnc.Flush()
		waitStatus(t, kv, n, func(ns fleet.NodeStatus) bool { return ns.State == api.OK && ns.Services == 1 })
	}
	check := func(where map[string]string) (string, int) {
		t.Helper()
		v, err := operator.Check(ctx, nc, kv, nil, where, 300*time.Millisecond, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		code := v.Print(&b)
		return b.String(), code
	}
	if out, code := check(nil); code != api.OK || !strings.HasPrefix(out, "OK: 3 ok, 0 warning, 0 critical, 0 unknown |") {
		t.Errorf("all well: exit %d\n%s", code, out)
	}

	units["db-1"].set("failed", "exit 1")
	waitStatus(t, kv, "db-1", func(ns fleet.NodeStatus) bool { return ns.State == api.Critical })
	out, code := check(nil)
	if code != api.Critical || !strings.HasPrefix(out, "CRITICAL: 2 ok, 0 warning, 1 critical, 0 unknown |") || !strings.Contains(out, "CRITICAL db-1: db failed (exit 1)") {
		t.Errorf("db-1 failed: exit %d\n%s", code, out)
	}
	if out, code := check(map[string]string{"role": "web"}); code != api.OK || !strings.HasPrefix(out, "OK: 2 ok, 0 warning, 0 critical, 0 unknown") {
		t.Errorf("role=web: exit %d\n%s", code, out)
	}

	// web-2 goes silent (its agent is gone; its last status said OK).
	stops["web-2"]()
	out, code = check(map[string]string{"role": "web"})
	if code != api.Unknown || !strings.HasPrefix(out, "UNKNOWN: 1 ok, 0 warning, 0 critical, 1 unknown |") || !strings.Contains(out, "UNKNOWN web-2: silent") {
		t.Errorf("web-2 silent: exit %d\n%s", code, out)
	}
	// In maintenance, it is not alerted on.
	m, _ := json.Marshal(fleet.Maintenance{Reason: "disk swap", Time: time.Now()})
	if _, err := kv.Put(ctx, fleet.MaintenanceKey("web-2"), m); err != nil {
		t.Fatal(err)
	}
	out, code = check(map[string]string{"role": "web"})
	if code != api.OK || !strings.HasPrefix(out, "OK: 1 ok, 0 warning, 0 critical, 0 unknown |") || !strings.Contains(out, "maintenance=1") || !strings.Contains(out, "maintenance (not alerted on): web-2") {
		t.Errorf("web-2 in maintenance: exit %d\n%s", code, out)
	}
}

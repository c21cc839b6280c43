package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/event"
	"github.com/unit-os/unit/supervise"
)

// liveUnit is a fake unit whose services can change: status answers
// what it holds, events tells each change.
type liveUnit struct {
	mu       sync.Mutex
	services []supervise.Status
	events   chan event.Event
}

func newLiveUnit(t *testing.T, name string) (*liveUnit, string) {
	t.Helper()
	u := &liveUnit{services: []supervise.Status{{Name: name, State: "running", Enabled: true}}, events: make(chan event.Event, 16)}
	sock := unitSocket(t, func(ctx context.Context, req api.Request, send func(any) error) error {
		switch req.Cmd {
		case "status":
			u.mu.Lock()
			defer u.mu.Unlock()
			return send(api.StatusReply{Services: append([]supervise.Status(nil), u.services...)})
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
func waitStatus(t *testing.T, kv jetstream.KeyValue, node string, ok func(NodeStatus) bool) NodeStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w, err := kv.Watch(ctx, StatusKey(node))
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
			var ns NodeStatus
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
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: StatusBucket})
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
		nkv, _ := njs.KeyValue(ctx, StatusBucket)
		facts := map[string]string{"role": role}
		rctx, cancel := context.WithCancel(ctx)
		stops[n] = cancel
		t.Cleanup(cancel)
		rep := &Reporter{KV: nkv, Node: n, Facts: facts, Socket: sock, Log: quiet()}
		go rep.Run(rctx)
		resp := &Responder{NC: nnc, Node: n, Facts: facts, Socket: sock}
		go resp.Serve(rctx)
		nnc.Flush()
		waitStatus(t, kv, n, func(ns NodeStatus) bool { return ns.State == api.OK && ns.Services == 1 })
	}
	check := func(where map[string]string) (string, int) {
		t.Helper()
		v, err := Check(ctx, nc, kv, nil, where, 300*time.Millisecond, 2*time.Second)
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
	waitStatus(t, kv, "db-1", func(ns NodeStatus) bool { return ns.State == api.Critical })
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
	m, _ := json.Marshal(Maintenance{Reason: "disk swap", Time: time.Now()})
	if _, err := kv.Put(ctx, MaintenanceKey("web-2"), m); err != nil {
		t.Fatal(err)
	}
	out, code = check(map[string]string{"role": "web"})
	if code != api.OK || !strings.HasPrefix(out, "OK: 1 ok, 0 warning, 0 critical, 0 unknown |") || !strings.Contains(out, "maintenance=1") || !strings.Contains(out, "maintenance (not alerted on): web-2") {
		t.Errorf("web-2 in maintenance: exit %d\n%s", code, out)
	}
}

// TestCheckCountsOnlyProvenReplies: with n2 down, n1 answering in n2's
// name (unsigned, signed with its own key, or with n2's JWT and its own
// signature) does not make n2 answer: the check says UNKNOWN n2, not
// OK: 2, and a fan-out leaves the forgeries out. n1's own answer, signed
// with its key, counts.
func TestCheckCountsOnlyProvenReplies(t *testing.T) {
	f := newSecureFleet(t)
	ctx := context.Background()
	v := make(violations, 64)
	n1, c1 := f.enrolledCreds(t, "n1", nil, v)
	n2, c2 := f.enrolledCreds(t, "n2", nil, v)
	for n, nc := range map[string]*nats.Conn{"n1": n1, "n2": n2} {
		skv, err := NodeKV(nc, StatusBucket)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(NodeStatus{Node: n, State: api.OK, Services: 1, Time: time.Now()})
		if _, err := skv.Put(ctx, StatusKey(n), b); err != nil {
			t.Fatalf("%s's status: %v", n, err)
		}
	}
	n2.Close() // n2 is down
	s1, err := c1.Signer()
	if err != nil {
		t.Fatal(err)
	}
	s2, err := c2.Signer()
	if err != nil {
		t.Fatal(err)
	}
	sock := fakeUnit(t, "n1", nil)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go (&Responder{NC: n1, Node: "n1", Socket: sock, Verifier: &Verifier{Account: f.a.AccountKey()}, Signer: s1}).Serve(rctx)
	n1.Flush()

	// n1's forgeries, each on a connection of its own (a connection may
	// answer a request once).
	forgeries := map[string]func(req Request) Reply{
		"unsigned": func(Request) Reply { return Reply{Node: "n2"} },
		"signed by n1": func(req Request) Reply {
			r := Reply{Node: "n2"}
			s1.SignReply(&r, req.ID)
			return r
		},
		"n2's JWT, n1's signature": func(req Request) Reply {
			r := Reply{Node: "n2", JWT: s2.JWT}
			r.Req = req.ID
			p, _ := replyPayload(r)
			sig, _ := s1.kp.Sign(p)
			r.Sig = b64(sig)
			return r
		},
	}
	sent := make(chan string, 16)
	for what, forge := range forgeries {
		nc, err := nats.Connect(f.url, c1.Options("n1")...)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		if _, err := nc.Subscribe(RPCSubject, func(m *nats.Msg) {
			var req Request
			json.Unmarshal(m.Data, &req)
			b, _ := json.Marshal(forge(req))
			m.Respond(b)
			sent <- what
		}); err != nil {
			t.Fatal(err)
		}
		nc.Flush()
	}

	sg, err := LoadSigner(filepath.Join(f.a.Dir, adminCredsFile))
	if err != nil {
		t.Fatal(err)
	}
	verdict, err := Check(ctx, f.admin, f.kv(t, StatusBucket), sg, nil, 300*time.Millisecond, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]api.HealthItem{}
	for _, it := range verdict.Nodes {
		got[it.Name] = it
	}
	if len(got) != 2 || got["n1"].State != api.OK || got["n2"].State != api.Unknown || !strings.HasPrefix(got["n2"].Detail, "silent") {
		t.Errorf("n2 down, n1 answering as n2: %+v, want n1 OK and n2 UNKNOWN (silent)", verdict.Nodes)
	}
	for range forgeries { // they were made (else the check proved nothing)
		<-sent
	}

	req := Request{Cmd: "ping"}
	sg.Sign(&req)
	res, err := Ask(ctx, f.admin, req, 300*time.Millisecond, 3*time.Second, []string{"n1", "n2"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var counted []string
	for _, r := range res.Replies {
		counted = append(counted, r.Node+" "+r.Error)
	}
	if len(res.Replies) != 1 || res.Replies[0].Node != "n1" || res.Replies[0].Error != "" {
		t.Errorf("the fan-out counted %q, want n1's answer only", counted)
	}
	if res.Unproven > len(forgeries) {
		t.Errorf("%d replies left out, more than the %d forgeries", res.Unproven, len(forgeries))
	}
}

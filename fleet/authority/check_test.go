package authority

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/fleet"
	"github.com/unit-os/unit/fleet/agent"
	"github.com/unit-os/unit/fleet/fleettest"
	"github.com/unit-os/unit/fleet/operator"
)

// fakeUnit answers a node's control socket: status with one service named
// after the node.
func fakeUnit(t *testing.T, node string) string {
	t.Helper()
	return fleettest.UnitSocket(t, func(ctx context.Context, req api.Request, send func(any) error) error {
		if req.Cmd == "status" {
			return send(api.StatusReply{Services: []api.ServiceStatus{{Name: "svc-" + node, State: "running", Enabled: true}}})
		}
		return nil
	})
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
		skv, err := agent.NodeKV(nc, fleet.StatusBucket)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(fleet.NodeStatus{Node: n, State: api.OK, Services: 1, Time: time.Now()})
		if _, err := skv.Put(ctx, fleet.StatusKey(n), b); err != nil {
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
	sock := fakeUnit(t, "n1")
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go (&agent.Responder{NC: n1, Node: "n1", Socket: sock, Verifier: &fleet.Verifier{Account: f.a.AccountKey()}, Signer: s1}).Serve(rctx)
	n1.Flush()

	// n1's key with n2's JWT.
	forger := *s1
	forger.JWT = s2.JWT

	// n1's forgeries, each on a connection of its own (a connection may
	// answer a request once).
	forgeries := map[string]func(req fleet.Request) fleet.Reply{
		"unsigned": func(fleet.Request) fleet.Reply { return fleet.Reply{Node: "n2"} },
		"signed by n1": func(req fleet.Request) fleet.Reply {
			r := fleet.Reply{Node: "n2"}
			s1.SignReply(&r, req.ID)
			return r
		},
		"n2's JWT, n1's signature": func(req fleet.Request) fleet.Reply {
			r := fleet.Reply{Node: "n2"}
			forger.SignReply(&r, req.ID)
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
		if _, err := nc.Subscribe(fleet.RPCSubject, func(m *nats.Msg) {
			var req fleet.Request
			json.Unmarshal(m.Data, &req)
			b, _ := json.Marshal(forge(req))
			m.Respond(b)
			sent <- what
		}); err != nil {
			t.Fatal(err)
		}
		nc.Flush()
	}

	sg, err := fleet.LoadSigner(filepath.Join(f.a.Dir, adminCredsFile))
	if err != nil {
		t.Fatal(err)
	}
	verdict, err := operator.Check(ctx, f.admin, f.kv(t, fleet.StatusBucket), sg, nil, 300*time.Millisecond, 3*time.Second)
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

	req := fleet.Request{Cmd: "ping"}
	sg.Sign(&req)
	res, err := operator.Ask(ctx, f.admin, req, 300*time.Millisecond, 3*time.Second, []string{"n1", "n2"}, nil)
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

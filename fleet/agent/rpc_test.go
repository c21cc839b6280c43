package agent

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/fleet"
	"github.com/unit-os/unit/fleet/fleettest"
	"github.com/unit-os/unit/fleet/operator"
)

// fakeUnit answers a node's control socket: status with one service named
// after the node; every other command is recorded in did.
func fakeUnit(t *testing.T, node string, did *commands) string {
	t.Helper()
	return unitSocket(t, func(ctx context.Context, req api.Request, send func(any) error) error {
		if req.Cmd == "status" {
			return send(api.StatusReply{Services: []api.ServiceStatus{{Name: "svc-" + node, State: "running", Enabled: true}}})
		}
		if did != nil {
			did.add(node + " " + req.Cmd + " " + req.Name)
		}
		return nil
	})
}

// unitSocket serves h on a control socket of the test's and returns its
// path: a node's unit, as the agent sees it.
func unitSocket(t *testing.T, h api.Handler) string { return fleettest.UnitSocket(t, h) }

// commands records what fake units were asked.
type commands struct {
	mu  sync.Mutex
	got []string
}

func (c *commands) add(s string) { c.mu.Lock(); c.got = append(c.got, s); c.mu.Unlock() }
func (c *commands) list() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.got, ",")
}

// node starts a responder for one node on its own connection, its
// replies signed by sg (nil: unsigned); stop ends it, as when its agent
// stops.
func node(t *testing.T, url, name string, facts map[string]string, v *fleet.Verifier, sg *fleet.Signer, did *commands) (stop func()) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	r := &Responder{NC: nc, Node: name, Facts: facts, Socket: fakeUnit(t, name, did), Verifier: v, Signer: sg}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := make(chan struct{})
	go func() { r.Serve(ctx); close(done) }()
	if err := nc.Flush(); err != nil { // the subscription is on the server
		t.Fatal(err)
	}
	return func() {
		cancel()
		<-done
		nc.Flush() // the unsubscription is on the server
	}
}

// TestFanOut: a request reaches the nodes whose facts match, each answers
// through its own control socket, the wait ends a window after the last
// reply or as soon as every expected node answered (not at the maximum),
// and without credentials a node refuses anything that changes it.
func TestFanOut(t *testing.T) {
	s, _ := embedded(t)
	ctx := context.Background()
	for _, n := range []struct{ node, role, dc string }{{"web-1", "web", "ams"}, {"web-2", "web", "fra"}, {"db-1", "db", "ams"}} {
		node(t, s.ClientURL(), n.node, map[string]string{"role": n.role, "dc": n.dc}, nil, nil, nil)
	}
	client, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	res, err := operator.Ask(ctx, client, fleet.Request{Cmd: "status", Where: map[string]string{"role": "web"}}, 300*time.Millisecond, time.Minute, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var nodes []string
	for _, r := range res.Replies {
		nodes = append(nodes, r.Node)
		var st api.StatusReply
		if r.Error != "" || len(r.Data) != 1 || json.Unmarshal(r.Data[0], &st) != nil || st.Services[0].Name != "svc-"+r.Node {
			t.Errorf("%s answered %+v", r.Node, r)
		}
	}
	if strings.Join(nodes, " ") != "web-1 web-2" {
		t.Errorf("role=web reached %q", nodes)
	}
	if res.Took >= 30*time.Second {
		t.Errorf("the wait took %s: the window did not slide", res.Took)
	}
	res, _ = operator.Ask(ctx, client, fleet.Request{Cmd: "status", Where: map[string]string{"role": "web", "dc": "ams"}}, 300*time.Millisecond, time.Minute, nil, nil)
	if len(res.Replies) != 1 || res.Replies[0].Node != "web-1" {
		t.Errorf("role=web dc=ams: %+v", res.Replies)
	}
	// Every expected node answered: no window to wait out.
	res, _ = operator.Ask(ctx, client, fleet.Request{Cmd: "health"}, time.Minute, 2*time.Minute, []string{"web-1", "web-2", "db-1"}, nil)
	if len(res.Replies) != 3 || res.Took >= time.Minute {
		t.Errorf("with every node expected: %d replies in %s", len(res.Replies), res.Took)
	}
	for _, r := range res.Replies {
		if r.Error != "" || len(r.Data) != 1 || !strings.Contains(string(r.Data[0]), `"state":0`) {
			t.Errorf("health of %s: %+v", r.Node, r)
		}
	}
	res, _ = operator.Ask(ctx, client, fleet.Request{Cmd: "restart", Name: "x"}, 300*time.Millisecond, time.Minute, nil, nil)
	if len(res.Replies) != 3 {
		t.Fatalf("restart: %d replies", len(res.Replies))
	}
	for _, r := range res.Replies {
		if !strings.Contains(r.Error, "only unsigned read-only requests") || len(r.Data) != 0 {
			t.Errorf("%s: restart not refused: %+v", r.Node, r)
		}
	}
}

// account makes an account key and a user of it with a role, as creds.
func account(t *testing.T) nkeys.KeyPair {
	t.Helper()
	kp, err := nkeys.CreateAccount()
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

func user(t *testing.T, acct nkeys.KeyPair, role string, expires time.Time) *fleet.Signer {
	t.Helper()
	return namedUser(t, acct, "", role, expires)
}

// namedUser is a user of acct named name (a node's JWT is named after the
// node, with the role node).
func namedUser(t *testing.T, acct nkeys.KeyPair, name, role string, expires time.Time) *fleet.Signer {
	t.Helper()
	sg, _ := userKey(t, acct, name, role, expires)
	return sg
}

// userKey is namedUser with its key (to sign what a Signer would not).
func userKey(t *testing.T, acct nkeys.KeyPair, name, role string, expires time.Time) (*fleet.Signer, nkeys.KeyPair) {
	t.Helper()
	ukp, _ := nkeys.CreateUser()
	pub, _ := ukp.PublicKey()
	c := jwt.NewUserClaims(pub)
	c.Name = name
	if role != "" {
		c.Tags.Add(fleet.RoleTag + role)
	}
	if !expires.IsZero() {
		c.Expires = expires.Unix()
	}
	tok, err := c.Encode(acct)
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := ukp.Seed()
	creds, _ := jwt.FormatUserConfig(tok, seed)
	sg, err := fleet.ParseSigner(creds)
	if err != nil {
		t.Fatal(err)
	}
	return sg, ukp
}

// TestSignedRequests: a node with credentials does only what a signed
// request of its own account's users, in their role, may ask: a reader
// looks, an admin changes; unsigned, foreign, tampered, expired, stale
// and replayed requests are refused, and the unit behind the node never
// hears of them.
func TestSignedRequests(t *testing.T) {
	s, _ := embedded(t)
	ctx := context.Background()
	acct := account(t)
	apub, _ := acct.PublicKey()
	did := &commands{}
	nodeKey := namedUser(t, acct, "web-1", fleet.RoleNode, time.Time{})
	stop := node(t, s.ClientURL(), "web-1", map[string]string{"role": "web"}, &fleet.Verifier{Account: apub}, nodeKey, did)
	client, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	admin, reader := user(t, acct, fleet.RoleAdmin, time.Time{}), user(t, acct, fleet.RoleReader, time.Time{})
	foreign := user(t, account(t), fleet.RoleAdmin, time.Time{})
	ask := func(req fleet.Request) fleet.Reply {
		t.Helper()
		res, err := operator.Ask(ctx, client, req, time.Minute, 2*time.Minute, []string{"web-1"}, nil)
		if err != nil || len(res.Replies) != 1 {
			t.Fatalf("%s: %v %+v", req.Cmd, err, res)
		}
		return res.Replies[0]
	}
	signed := func(sg *fleet.Signer, req fleet.Request) fleet.Request {
		t.Helper()
		if err := sg.Sign(&req); err != nil {
			t.Fatal(err)
		}
		return req
	}
	refused := func(what string, req fleet.Request, want string) {
		t.Helper()
		if r := ask(req); !strings.Contains(r.Error, want) {
			t.Errorf("%s: got %+v, want an error with %q", what, r, want)
		}
	}
	// raw is the node's answer as it comes, proven or not (Ask leaves out
	// a reply that is not from a node of the asker's account).
	raw := func(req fleet.Request) fleet.Reply {
		t.Helper()
		b, _ := json.Marshal(req)
		m, err := client.Request(fleet.RPCSubject, b, time.Minute)
		var r fleet.Reply
		if err != nil || json.Unmarshal(m.Data, &r) != nil {
			t.Fatalf("%s: %v", req.Cmd, err)
		}
		return r
	}

	if r := ask(signed(reader, fleet.Request{Cmd: "status"})); r.Error != "" || len(r.Data) != 1 {
		t.Errorf("a reader's status: %+v", r)
	}
	refused("unsigned status", fleet.Request{Cmd: "status"}, "not signed")
	refused("a reader's restart", signed(reader, fleet.Request{Cmd: "restart", Name: "svc"}), "a reader may not change a node")
	refused("a reader's apply", signed(reader, fleet.Request{Cmd: "apply"}), "a reader may not change a node")
	if r := ask(signed(reader, fleet.Request{Cmd: "apply", DryRun: true})); r.Error != "" {
		t.Errorf("a reader's dry run: %+v", r)
	}
	if r := raw(signed(foreign, fleet.Request{Cmd: "restart", Name: "svc"})); !strings.Contains(r.Error, "not a user of this node's account") {
		t.Errorf("another account's admin: %+v", r)
	}
	refused("no role", signed(user(t, acct, "", time.Time{}), fleet.Request{Cmd: "status"}), "names no role")
	refused("an expired JWT", signed(user(t, acct, fleet.RoleAdmin, time.Now().Add(-time.Hour)), fleet.Request{Cmd: "status"}), "expired")
	tampered := signed(admin, fleet.Request{Cmd: "restart", Name: "svc", Where: map[string]string{"role": "web"}})
	tampered.Name = "sshd"
	refused("a tampered request", tampered, "does not match")
	staler, staleKey := userKey(t, acct, "", fleet.RoleAdmin, time.Time{})
	stale := fleet.Request{Cmd: "restart", Name: "svc"}
	staler.Sign(&stale)
	stale.Time = stale.Time.Add(-time.Hour)
	stale.Sig = ""
	payload, _ := json.Marshal(stale)
	sig, _ := staleKey.Sign(payload)
	stale.Sig = base64.RawURLEncoding.EncodeToString(sig)
	refused("a request an hour old", stale, "from this node's clock")

	req := signed(admin, fleet.Request{Cmd: "restart", Name: "svc"})
	if r := ask(req); r.Error != "" {
		t.Errorf("an admin's restart: %+v", r)
	}
	refused("a replay", req, "seen before")

	// The agent restarts: the ids it saw are gone with it, and a request
	// stamped before its start is refused (it may have been taken).
	stop()
	node(t, s.ClientURL(), "web-1", map[string]string{"role": "web"}, &fleet.Verifier{Account: apub, Since: time.Now()}, nodeKey, did)
	refused("a replay after a restart", req, "before this node's agent started")
	if r := ask(signed(admin, fleet.Request{Cmd: "restart", Name: "svc"})); r.Error != "" {
		t.Errorf("an admin's restart after the agent's restart: %+v", r)
	}
	if got := did.list(); got != "web-1 apply ,web-1 restart svc,web-1 restart svc" {
		t.Errorf("the unit was asked %q; want only the reader's dry run and the admin's two restarts", got)
	}
}

// TestUpdateRequest: an admin's update reaches unit update with the
// fetched bundle's path and the pin; without the pin, or from a reader,
// or on a node that takes no content, nothing is fetched or installed.
func TestUpdateRequest(t *testing.T) {
	s, _ := embedded(t)
	ctx := context.Background()
	acct := account(t)
	apub, _ := acct.PublicKey()
	got := make(chan api.Request, 4)
	sock := unitSocket(t, func(ctx context.Context, req api.Request, send func(any) error) error {
		got <- req
		return send(api.UpdateProgress{Message: "installed", Slot: "b", Gen: 2})
	})
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fetched := []string{}
	nc, _ := nats.Connect(s.ClientURL())
	defer nc.Close()
	r := &Responder{NC: nc, Node: "n1", Socket: sock, Verifier: &fleet.Verifier{Account: apub}, Signer: namedUser(t, acct, "n1", fleet.RoleNode, time.Time{}),
		Fetch: func(_ context.Context, name string) (string, error) {
			fetched = append(fetched, name)
			return "/var/lib/unit-fleet/content/" + name, nil
		}}
	go r.Serve(sctx)
	nc.Flush()
	client, _ := nats.Connect(s.ClientURL())
	defer client.Close()
	admin, reader := user(t, acct, fleet.RoleAdmin, time.Time{}), user(t, acct, fleet.RoleReader, time.Time{})
	ask := func(sg *fleet.Signer, req fleet.Request) fleet.Reply {
		t.Helper()
		sg.Sign(&req)
		res, err := operator.Ask(ctx, client, req, time.Minute, 2*time.Minute, []string{"n1"}, nil)
		if err != nil || len(res.Replies) != 1 {
			t.Fatalf("%v %+v", err, res)
		}
		return res.Replies[0]
	}
	name := "sha256-" + strings.Repeat("0f", 32)
	if rep := ask(reader, fleet.Request{Cmd: "update", Content: name, SHA256: "pin"}); !strings.Contains(rep.Error, "a reader may not change a node") {
		t.Errorf("a reader's update: %+v", rep)
	}
	if rep := ask(admin, fleet.Request{Cmd: "update", Content: name}); !strings.Contains(rep.Error, "needs the bundle's id") {
		t.Errorf("no pin: %+v", rep)
	}
	rep := ask(admin, fleet.Request{Cmd: "update", Content: name, SHA256: "pin", NoReboot: true})
	if rep.Error != "" || len(rep.Data) != 1 || !strings.Contains(string(rep.Data[0]), `"slot":"b"`) {
		t.Fatalf("an admin's update: %+v", rep)
	}
	req := <-got
	if req.Cmd != "update" || req.Source != "/var/lib/unit-fleet/content/"+name || req.SHA256 != "pin" || !req.NoReboot {
		t.Errorf("unit was asked %+v", req)
	}
	if len(fetched) != 1 || len(got) != 0 {
		t.Errorf("fetched %v; unit asked %d more times", fetched, len(got))
	}
}

// TestVerifyReply: a reply counts only if the node it names signed it,
// for this request, as a node of the asker's account.
func TestVerifyReply(t *testing.T) {
	acct := account(t)
	apub, _ := acct.PublicKey()
	n1, n2 := namedUser(t, acct, "n1", fleet.RoleNode, time.Time{}), namedUser(t, acct, "n2", fleet.RoleNode, time.Time{})
	now := time.Now()
	signed := func(sg *fleet.Signer, rep fleet.Reply, reqID string) fleet.Reply {
		t.Helper()
		if err := sg.SignReply(&rep, reqID); err != nil {
			t.Fatal(err)
		}
		return rep
	}
	if err := fleet.VerifyReply(signed(n1, fleet.Reply{Node: "n1", Data: []json.RawMessage{[]byte(`1`)}}, "r1"), "r1", apub, now); err != nil {
		t.Fatalf("n1's own reply: %v", err)
	}
	swapped := signed(n2, fleet.Reply{Node: "n1"}, "r1")
	swapped.JWT = n1.JWT // n1's JWT, n2's signature
	tampered := signed(n1, fleet.Reply{Node: "n1", Data: []json.RawMessage{[]byte(`"ok"`)}}, "r1")
	tampered.Data[0] = []byte(`"failed"`)
	for _, c := range []struct {
		what  string
		rep   fleet.Reply
		reqID string
		want  string
	}{
		{"unsigned", fleet.Reply{Node: "n1"}, "r1", "not signed"},
		{"n2 in n1's name", signed(n2, fleet.Reply{Node: "n1"}, "r1"), "r1", `not node "n1"'s`},
		{"n1's JWT, n2's signature", swapped, "r1", "does not match"},
		{"another request's reply", signed(n1, fleet.Reply{Node: "n1"}, "r0"), "r1", "not to this request"},
		{"tampered", tampered, "r1", "does not match"},
		{"another account's node", signed(namedUser(t, account(t), "n1", fleet.RoleNode, time.Time{}), fleet.Reply{Node: "n1"}, "r1"), "r1", "not a user of the asker's account"},
		{"a reader named n1", signed(namedUser(t, acct, "n1", fleet.RoleReader, time.Time{}), fleet.Reply{Node: "n1"}, "r1"), "r1", `not node "n1"'s`},
		{"an expired node", signed(namedUser(t, acct, "n1", fleet.RoleNode, now.Add(-time.Hour)), fleet.Reply{Node: "n1"}, "r1"), "r1", "expired"},
	} {
		if err := fleet.VerifyReply(c.rep, c.reqID, apub, now); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.what, err, c.want)
		}
	}
}

package authority

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/unit-os/unit/fleet"
	"github.com/unit-os/unit/fleet/agent"
)

func enrollCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// credsDir is a fresh directory for a node's credentials (made by
// Enroll: a test's temporary directory is open to others).
func credsDir(t *testing.T) string { return filepath.Join(t.TempDir(), "creds") }

// request is an enrolment request for token's id and secret, signed by kp.
func enrollReq(t testing.TB, token, node string, groups []string, kp nkeys.KeyPair) fleet.EnrollRequest {
	t.Helper()
	tw, err := fleet.ParseToken(token)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	req := fleet.EnrollRequest{Token: tw.ID, Secret: tw.Secret, Node: node, Groups: groups, Key: pub}
	sig, _ := kp.Sign(req.Payload())
	req.Sig = base64.RawURLEncoding.EncodeToString(sig)
	return req
}

func userKP(t testing.TB) nkeys.KeyPair {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

func reqBytes(r fleet.EnrollRequest) []byte { b, _ := json.Marshal(r); return b }

// TestEnroll: a node trades a token for creds over TLS: its key is made
// on the node (0600) and the JWT is for that key, with the groups it
// asked for; later boots reuse the creds without asking (here: with no
// token and a broker that does not exist) and the key is kept when the
// node enrols again for other groups.
func TestEnroll(t *testing.T) {
	f := newSecureFleet(t)
	ctx := enrollCtx(t)
	tok, err := f.a.Token([]string{"web", "dc1"}, 2, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(tok, " \t\r\n:") || len(tok) > fleet.MaxTokenLen {
		t.Errorf("the token does not fit a seed's line: %q", tok)
	}
	dir := credsDir(t)
	c, err := agent.Enroll(ctx, f.url, tok, "n1", []string{"web"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("creds dir: %v %v", fi.Mode(), err)
	}
	for _, name := range []string{"node.nk", "node.creds", "ca.pem"} {
		if fi, err := os.Lstat(filepath.Join(dir, name)); err != nil || fi.Mode() != 0o600 {
			t.Errorf("%s: %v %v", name, fi.Mode(), err)
		}
	}
	key, _ := os.ReadFile(filepath.Join(dir, "node.nk"))
	kp, err := nkeys.FromSeed(bytes.TrimSpace(key))
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	creds, _ := os.ReadFile(filepath.Join(dir, "node.creds"))
	tokJWT, _ := jwt.ParseDecoratedJWT(creds)
	uc, err := jwt.DecodeUserClaims(tokJWT)
	if err != nil || uc.Subject != pub || uc.Name != "n1" || uc.Issuer != f.a.AccountKey() {
		t.Fatalf("the node's JWT: %+v %v", uc, err)
	}
	if !slices.Contains(uc.Pub.Allow, "$JS.API.CONSUMER.CREATE.KV_unit-desired.*.$KV.unit-desired.group.web") ||
		slices.Contains(uc.Pub.Allow, "$JS.API.CONSUMER.CREATE.KV_unit-desired.*.$KV.unit-desired.group.dc1") {
		t.Errorf("the node's groups: %v", uc.Pub.Allow)
	}
	if ca, _ := os.ReadFile(filepath.Join(dir, "ca.pem")); !bytes.Equal(ca, f.a.CAPEM()) {
		t.Error("ca.pem is not the authority's CA")
	}
	if acct, err := fleet.AccountOf(creds); err != nil || acct != f.a.AccountKey() {
		t.Errorf("AccountOf the node's creds: %s %v", acct, err)
	}
	nc, err := nats.Connect(f.url, c.Options("n1")...)
	if err != nil {
		t.Fatalf("connect with the node's creds: %v", err)
	}
	nc.Close()

	if lc, err := agent.LoadCreds(dir); err != nil || lc.Dir != dir {
		t.Errorf("LoadCreds: %v", err)
	}
	if acct, err := c.Account(); err != nil || acct != f.a.AccountKey() {
		t.Errorf("Creds.Account: %s %v", acct, err)
	}
	if _, err := agent.LoadCreds(credsDir(t)); err == nil {
		t.Error("LoadCreds of nothing")
	}

	// A later boot: no token, no broker; the creds are kept.
	if _, err := agent.Enroll(ctx, "tls://127.0.0.1:1", "", "n1", []string{"web"}, dir); err != nil {
		t.Errorf("a later boot asked again: %v", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "node.creds")); !bytes.Equal(after, creds) {
		t.Error("the creds were rewritten")
	}
	// Other groups need a token; with one, the same key gets new creds.
	if _, err := agent.Enroll(ctx, "tls://127.0.0.1:1", "", "n1", []string{"web", "dc1"}, dir); err == nil || !strings.Contains(err.Error(), "no token") {
		t.Errorf("new groups without a token: %v", err)
	}
	if _, err := agent.Enroll(ctx, f.url, tok, "n1", []string{"web", "dc1"}, dir); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, "node.nk")); !bytes.Equal(again, key) {
		t.Error("the node's key was made again")
	}
	creds, _ = os.ReadFile(filepath.Join(dir, "node.creds"))
	tokJWT, _ = jwt.ParseDecoratedJWT(creds)
	if uc, _ = jwt.DecodeUserClaims(tokJWT); uc == nil || !slices.Contains(uc.Pub.Allow, "$JS.API.CONSUMER.CREATE.KV_unit-desired.*.$KV.unit-desired.group.dc1") {
		t.Errorf("the new creds lack group dc1: %+v", uc)
	}
	// The token's two uses are spent.
	if _, err := agent.Enroll(ctx, f.url, tok, "n2", nil, credsDir(t)); err == nil || !strings.Contains(err.Error(), "used up") {
		t.Errorf("a third use of a two-use token: %v", err)
	}
}

// TestEnrollRefusals: what the authority and the node refuse, each with
// its reason; a refused request spends nothing.
func TestEnrollRefusals(t *testing.T) {
	f := newSecureFleet(t)
	ctx := enrollCtx(t)
	tok, err := f.a.Token([]string{"web"}, 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	refused := func(what string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error with %q", what, err, want)
		}
	}
	// What agent.Enroll returns is permanent: asking again would not help.
	final := func(what string, err error, want string) {
		t.Helper()
		refused(what, err, want)
		if !agent.Permanent(err) {
			t.Errorf("%s: %v is not Permanent", what, err)
		}
	}
	_, err = agent.Enroll(ctx, f.url, tok, "n1", []string{"db"}, credsDir(t))
	final("a group not in the token", err, `does not allow group "db"`)
	_, err = agent.Enroll(ctx, f.url, "unit1.!!!", "n1", nil, credsDir(t))
	final("a token that is not one", err, "base64url")
	_, err = agent.Enroll(ctx, f.url, tok, "a.b", nil, credsDir(t))
	final("a node id that is not a name, on the node", err, "not a layer name")
	// A broker out of reach is not permanent: it may come.
	_, err = agent.Enroll(ctx, "tls://127.0.0.1:1", tok, "n1", []string{"web"}, credsDir(t))
	if err == nil || agent.Permanent(err) {
		t.Errorf("a broker out of reach: %v (permanent: %v)", err, agent.Permanent(err))
	}

	tw, _ := fleet.ParseToken(tok)
	forged := *tw
	forged.Secret = base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	_, err = agent.Enroll(ctx, f.url, encodeToken(t, &forged), "n1", []string{"web"}, credsDir(t))
	final("a forged secret", err, "not valid")
	// Requests the node library would not make, sent as they are.
	ask := func(req fleet.EnrollRequest) error {
		rep, err := agent.AskEnroll(ctx, f.url, tw, req)
		if err != nil {
			return err
		}
		if rep.Error != "" {
			return &enrollError{rep.Error}
		}
		return nil
	}
	kp := userKP(t)
	unknown := enrollReq(t, tok, "n1", []string{"web"}, kp)
	unknown.Token = strings.Repeat("ab", 16)
	unknown.Sig = base64.RawURLEncoding.EncodeToString(mustSign(kp.Sign(unknown.Payload())))
	refused("an unknown token id", ask(unknown), "not valid")
	bad := enrollReq(t, tok, "n1", []string{"web"}, kp)
	bad.Sig = base64.RawURLEncoding.EncodeToString(mustSign(userKP(t).Sign(bad.Payload())))
	refused("a signature by another key", ask(bad), "signature does not match")
	bad = enrollReq(t, tok, "n1", []string{"web"}, kp)
	bad.Node = "n2"
	refused("a request changed after signing", ask(bad), "signature does not match")
	refused("a node id that is not a name", ask(enrollReq(t, tok, "../etc", nil, kp)), "not a layer name")
	refused("a group that is not a name", ask(enrollReq(t, tok, "n1", []string{"a.>"}, kp)), "not a layer name")
	refused("a key that is not a user key", ask(fleet.EnrollRequest{Token: tw.ID, Secret: tw.Secret, Node: "n1", Key: "AAAA", Sig: "x"}), "not a public user nkey")

	// Ended: by the authority's clock (a token still inside its bearer
	// JWT's life) and by the broker's (the bearer JWT has ended too).
	later, err := Open(f.a.Dir)
	if err != nil {
		t.Fatal(err)
	}
	later.Log = f.a.Log
	later.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if rep := later.enroll(reqBytes(enrollReq(t, tok, "n1", []string{"web"}, kp))); !strings.Contains(rep.Error, "ended") {
		t.Errorf("a token past its end: %+v", rep)
	}
	ended, err := f.a.newToken([]string{"web"}, 1, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	_, err = agent.Enroll(ctx, f.url, ended, "n1", []string{"web"}, credsDir(t))
	final("a token whose bearer JWT ended", err, "Authorization Violation")

	// The token's CA is the only one the node trusts.
	other, err := Open(filepath.Join(t.TempDir(), "other"))
	if err != nil {
		t.Fatal(err)
	}
	wrongCA := *tw
	wrongCA.CA = other.ca.cert.Raw
	_, err = agent.Enroll(ctx, f.url, encodeToken(t, &wrongCA), "n1", []string{"web"}, credsDir(t))
	final("a broker the token's CA did not sign", err, "certificate signed by unknown authority")

	// After all that, the token's one use is still there.
	dir := credsDir(t)
	if _, err := agent.Enroll(ctx, f.url, tok, "n1", []string{"web"}, dir); err != nil {
		t.Fatalf("the token after the refusals: %v", err)
	}
	_, err = agent.Enroll(ctx, f.url, tok, "n2", []string{"web"}, credsDir(t))
	final("a token used again", err, "used up")

	// n1 is taken by its key: another key cannot have it, even with a
	// fresh token; the same key can.
	tok2, _ := f.a.Token([]string{"web"}, 2, time.Hour)
	_, err = agent.Enroll(ctx, f.url, tok2, "n1", []string{"web"}, credsDir(t))
	refused("a node id enrolled with another key", err, "enrolled with another key")
	os.Remove(filepath.Join(dir, "node.creds"))
	if _, err := agent.Enroll(ctx, f.url, tok2, "n1", []string{"web"}, dir); err != nil {
		t.Errorf("the same key enrolling again: %v", err)
	}

	// The authority's own trouble (a token record replaced by a
	// symlink) is no refusal: the node may ask again.
	tok3, _ := f.a.Token(nil, 1, time.Hour)
	tw3, _ := fleet.ParseToken(tok3)
	rec := f.a.tokenPath(tw3.ID)
	if err := os.Rename(rec, rec+".moved"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(rec+".moved", rec); err != nil {
		t.Fatal(err)
	}
	if rep := f.a.enroll(reqBytes(enrollReq(t, tok3, "n3", nil, userKP(t)))); !rep.Retry || !strings.Contains(rep.Error, "symlink") {
		t.Errorf("a symlinked token record: %+v", rep)
	}
}

type enrollError struct{ s string }

func (e *enrollError) Error() string { return e.s }

func mustSign(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func encodeToken(t *testing.T, tw *fleet.Token) string {
	t.Helper()
	s, err := tw.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestTokenBearer: a token's bearer JWT can ask EnrollSubject and hear
// the answer, nothing else: not take other nodes' requests (and their
// secrets), not publish elsewhere, not touch JetStream.
func TestTokenBearer(t *testing.T) {
	f := newSecureFleet(t)
	tok, _ := f.a.Token(nil, 1, time.Hour)
	tw, _ := fleet.ParseToken(tok)
	pool, _ := fleet.CAPool(tw.CAPEM())
	v := make(violations, 16)
	nc, err := nats.Connect(f.url,
		nats.UserJWT(func() (string, error) { return tw.JWT, nil }, func([]byte) ([]byte, error) { return nil, nil }),
		nats.Secure(&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}),
		nats.CustomInboxPrefix(fleet.EnrollInbox(tw.ID)), nats.ErrorHandler(v.handler))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	v.refused(t, "subscribe to enrolments", fleet.EnrollSubject, func(ctx context.Context) error {
		sub, err := nc.SubscribeSync(fleet.EnrollSubject)
		if err != nil {
			return err
		}
		_, err = sub.NextMsgWithContext(ctx)
		return err
	})
	v.refused(t, "a fan-out request", fleet.RPCSubject, func(ctx context.Context) error {
		_, err := nc.RequestWithContext(ctx, fleet.RPCSubject, []byte(`{"cmd":"ping"}`))
		return err
	})
	v.refused(t, "JetStream", "$JS.API.STREAM.INFO.KV_unit-desired", func(ctx context.Context) error {
		_, err := nc.RequestWithContext(ctx, "$JS.API.STREAM.INFO.KV_unit-desired", nil)
		return err
	})
	// The enrolment service's own user answers, and does nothing else.
	opts, err := f.a.ServiceOptions()
	if err != nil {
		t.Fatal(err)
	}
	sv := make(violations, 16)
	svc, err := nats.Connect(f.url, append(opts, nats.ErrorHandler(sv.handler))...)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	sv.refused(t, "the service putting desired state", "$KV.unit-desired.all", func(ctx context.Context) error {
		if err := svc.Publish("$KV.unit-desired.all", []byte("x")); err != nil {
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	})
	sv.refused(t, "the service taking fan-out requests", fleet.RPCSubject, func(ctx context.Context) error {
		sub, err := svc.SubscribeSync(fleet.RPCSubject)
		if err != nil {
			return err
		}
		_, err = sub.NextMsgWithContext(ctx)
		return err
	})

	// What it may do: ask, and hear a refusal.
	m, err := nc.Request(fleet.EnrollSubject, []byte("{}"), time.Minute)
	if err != nil || !strings.Contains(string(m.Data), "not a layer name") {
		t.Errorf("an empty request: %v %v", m, err)
	}
}

// TestTokenRace: nodes racing for a token's uses: exactly as many win as
// it has uses, through the service (concurrent requests) and through two
// authorities on one directory (two processes).
func TestTokenRace(t *testing.T) {
	f := newSecureFleet(t)
	ctx := enrollCtx(t)
	for _, uses := range []int{1, 3} {
		tok, err := f.a.Token([]string{"web"}, uses, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		const racers = 10
		errs := make(chan error, racers)
		for i := range racers {
			go func() {
				_, err := agent.Enroll(ctx, f.url, tok, fmt.Sprintf("race%d-%d", uses, i), []string{"web"}, credsDir(t))
				errs <- err
			}()
		}
		won := 0
		for range racers {
			if err := <-errs; err == nil {
				won++
			} else if !strings.Contains(err.Error(), "used up") {
				t.Errorf("a loser's error: %v", err)
			}
		}
		if won != uses {
			t.Errorf("a token of %d uses: %d nodes enrolled", uses, won)
		}
	}

	// Two processes: two authorities on the one directory, requests
	// judged directly.
	b, err := Open(f.a.Dir)
	if err != nil {
		t.Fatal(err)
	}
	b.Log = f.a.Log
	tok, _ := f.a.Token(nil, 1, time.Hour)
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := f.a
			if i%2 == 1 {
				a = b
			}
			rep := a.enroll(reqBytes(enrollReq(t, tok, fmt.Sprintf("proc%d", i), nil, userKP(t))))
			mu.Lock()
			defer mu.Unlock()
			if rep.Error == "" {
				won++
			} else if !strings.Contains(rep.Error, "used up") {
				t.Errorf("a loser's error: %s", rep.Error)
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Errorf("a single-use token across two authorities: %d won", won)
	}
}

// FuzzEnrollRequest: whatever a request holds, the authority answers
// with an error or a JWT, never panics, and never issues for a request
// that is not signed by its key.
func FuzzEnrollRequest(f *testing.F) {
	dir := filepath.Join(f.TempDir(), "auth")
	a, err := Open(dir)
	if err != nil {
		f.Fatal(err)
	}
	a.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	tok, err := a.Token([]string{"web"}, maxTokenUses, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	good := enrollReq(f, tok, "n1", []string{"web"}, userKP(f))
	f.Add(reqBytes(good))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"token":"../../etc/passwd","secret":"","node":"n1"}`))
	f.Add([]byte(`{"node":"n1","groups":null,"key":"UAAAA","sig":"!!!"}`))
	f.Add(bytes.Repeat([]byte("["), 20000))
	huge := good
	huge.Groups = make([]string, 100)
	f.Add(reqBytes(huge))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep := a.enroll(data)
		if (rep.Error == "") == (rep.JWT == "") {
			t.Fatalf("an answer with neither or both: %+v", rep)
		}
		if rep.JWT == "" {
			return
		}
		var req fleet.EnrollRequest
		if json.Unmarshal(data, &req) != nil {
			t.Fatal("a JWT for a request that is not JSON")
		}
		uc, err := jwt.DecodeUserClaims(rep.JWT)
		if err != nil || uc.Subject != req.Key || uc.Name != req.Node {
			t.Fatalf("a JWT not for the request's key and node: %+v", uc)
		}
	})
}

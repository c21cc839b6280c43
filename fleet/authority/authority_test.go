package authority

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/fleet"
	"github.com/unit-os/unit/fleet/operator"
)

// secureFleet is a broker set up by an authority, as serve will run it:
// operator JWT auth, TLS required, the buckets made with admin creds, the
// enrolment service answering.
type secureFleet struct {
	a     *Authority
	opts  *server.Options
	s     *server.Server
	url   string
	admin *nats.Conn
	js    jetstream.JetStream
}

func newSecureFleet(t *testing.T) *secureFleet {
	t.Helper()
	a, err := Open(filepath.Join(t.TempDir(), "authority"))
	if err != nil {
		t.Fatal(err)
	}
	a.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	o := &server.Options{Host: "127.0.0.1", Port: -1, StoreDir: t.TempDir(), NoSigs: true, NoLog: true}
	trust, err := a.Trust([]string{"broker.test"})
	if err != nil {
		t.Fatal(err)
	}
	applyTrust(t, trust, o)
	s, err := server.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(20 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(s.Shutdown)
	f := &secureFleet{a: a, opts: o, s: s, url: s.ClientURL()}
	creds, err := a.AdminCreds()
	if err != nil {
		t.Fatal(err)
	}
	if f.admin, err = nats.Connect(f.url, fleet.OperatorOptions(creds, a.CAPath())...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.admin.Close)
	if f.js, err = jetstream.New(f.admin); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := fleet.EnsureBuckets(ctx, f.js); err != nil {
		t.Fatal(err)
	}
	opts, err := a.ServiceOptions()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := nats.Connect(f.url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	l, err := a.listenEnroll(svc)
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.run(sctx); close(done) }()
	t.Cleanup(func() { stop(); <-done; svc.Close() })
	return f
}

// kv opens a bucket as the admin.
func (f *secureFleet) kv(t *testing.T, bucket string) jetstream.KeyValue {
	t.Helper()
	kv, err := f.js.KeyValue(context.Background(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

// violations collects a connection's permission errors, in order.
type violations chan error

func (v violations) handler(_ *nats.Conn, _ *nats.Subscription, err error) {
	if errors.Is(err, nats.ErrPermissionViolation) {
		select {
		case v <- err:
		default:
		}
	}
}

// next waits for the next violation.
func (v violations) next(t *testing.T) error {
	t.Helper()
	select {
	case err := <-v:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("no permissions violation came")
		return nil
	}
}

// none checks that no violation came so far: it makes one on purpose
// and it must be the first to arrive (the broker answers in order, and
// the client reports in order).
func (v violations) none(t *testing.T, nc *nats.Conn) {
	t.Helper()
	const sentinel = "unit.test.sentinel"
	if err := nc.Publish(sentinel, nil); err != nil {
		t.Fatal(err)
	}
	if err := v.next(t); !strings.Contains(err.Error(), sentinel) {
		t.Fatalf("an unexpected permissions violation: %v", err)
	}
}

// refused runs op and requires the broker to refuse it: a permissions
// violation naming subject, after which op, if it is still waiting for
// an answer that will not come, is stopped; op must not succeed.
func (v violations) refused(t *testing.T, what, subject string, op func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res := make(chan error, 1)
	go func() { res <- op(ctx) }()
	select {
	case err := <-v:
		if !strings.Contains(err.Error(), subject) {
			t.Errorf("%s: the violation is %v, want one on %s", what, err, subject)
		}
		cancel()
		if err := <-res; err == nil {
			t.Errorf("%s: succeeded despite the violation", what)
		}
	case err := <-res:
		if err == nil {
			t.Errorf("%s: allowed", what)
			return
		}
		// Some refusals come back as the call's own error too; the
		// violation must still be the broker's.
		select {
		case verr := <-v:
			if !strings.Contains(verr.Error(), subject) {
				t.Errorf("%s: the violation is %v, want one on %s", what, verr, subject)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("%s: failed with %v but no permissions violation came", what, err)
		}
	}
}

// TestOpenAuthority: the first open makes the keys, JWTs and CA with
// owner-only modes; a second open loads the same ones; the admin creds
// are made once.
func TestOpenAuthority(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "auth")
	a, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v %v", fi.Mode(), err)
	}
	for _, f := range []string{operatorKeyFile, accountKeyFile, sysKeyFile, operatorJWTFile, accountJWTFile, sysJWTFile, caKeyFile, caCertFile} {
		fi, err := os.Lstat(filepath.Join(dir, f))
		if err != nil || fi.Mode() != 0o600 {
			t.Errorf("%s: %v %v", f, fi.Mode(), err)
		}
	}
	b, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a.AccountKey() != b.AccountKey() || !bytes.Equal(a.CAPEM(), b.CAPEM()) || a.operatorJWT != b.operatorJWT {
		t.Error("a second open made new keys")
	}
	ac, err := jwt.DecodeAccountClaims(a.accountJWT)
	if err != nil || ac.Name != AccountName || !ac.Limits.IsJSEnabled() || ac.Limits.JetStreamLimits.DiskStorage == 0 {
		t.Errorf("account: %+v %v", ac, err)
	}
	p1, err := a.AdminCreds()
	if err != nil {
		t.Fatal(err)
	}
	c1, _ := os.ReadFile(p1)
	p2, err := b.AdminCreds()
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := os.ReadFile(p2)
	if p1 != p2 || !bytes.Equal(c1, c2) {
		t.Error("the admin creds were made twice")
	}
	if fi, _ := os.Stat(p1); fi.Mode() != 0o600 {
		t.Errorf("admin.creds mode %v", fi.Mode())
	}
	if sg, err := fleet.ParseSigner(c1); err != nil {
		t.Error(err)
	} else if role, err := (&fleet.Verifier{Account: a.AccountKey()}).Verify(signedPing(t, sg), time.Now()); err != nil || role != fleet.RoleAdmin {
		t.Errorf("admin creds: role %q %v", role, err)
	}
}

func signedPing(t *testing.T, sg *fleet.Signer) fleet.Request {
	t.Helper()
	req := fleet.Request{Cmd: "ping"}
	if err := sg.Sign(&req); err != nil {
		t.Fatal(err)
	}
	return req
}

// TestAuthorityRefusesUnsafeFiles: a key directory or key file that is a
// symlink, or that others may read, is refused, not used.
func TestAuthorityRefusesUnsafeFiles(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "real")
	if _, err := Open(real); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(link); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("a symlinked directory: %v", err)
	}

	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(open); err == nil || !strings.Contains(err.Error(), "chmod 700") {
		t.Errorf("a directory others may enter: %v", err)
	}

	if err := os.Chmod(filepath.Join(real, accountKeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(real); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a key others may read: %v", err)
	}
	if err := os.Chmod(filepath.Join(real, accountKeyFile), 0o600); err != nil {
		t.Fatal(err)
	}

	// A key replaced by a symlink to a file the attacker controls.
	elsewhere := filepath.Join(base, "elsewhere.nk")
	seed, _ := os.ReadFile(filepath.Join(real, operatorKeyFile))
	if err := os.WriteFile(elsewhere, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(real, operatorKeyFile))
	if err := os.Symlink(elsewhere, filepath.Join(real, operatorKeyFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(real); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("a symlinked key: %v", err)
	}

	// A dangling symlink where a key is to be made is not written through.
	fresh := filepath.Join(base, "fresh")
	if err := os.Mkdir(fresh, 0o700); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(base, "target")
	if err := os.Symlink(target, filepath.Join(fresh, operatorKeyFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(fresh); err == nil {
		t.Error("a dangling symlink for a key was accepted")
	}
	if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a key was written through a symlink: %v", err)
	}
}

// TestBrokerTLS: the broker's certificate is the fleet CA's, for its
// names and loopback's; it speaks TLS only: a client that sends CONNECT
// in the clear gets no PONG, one that trusts other roots does not
// connect.
func TestBrokerTLS(t *testing.T) {
	f := newSecureFleet(t)
	pool, err := fleet.CAPool(f.a.CAPEM())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := f.opts.TLSConfig.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"localhost", "127.0.0.1", "::1", "broker.test"} {
		if _, err := cert.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := cert.Leaf.Verify(x509.VerifyOptions{DNSName: "other.test", Roots: pool}); err == nil {
		t.Error("the certificate is good for any name")
	}
	creds, _ := f.a.AdminCreds()
	port := f.s.Addr().(*net.TCPAddr).Port
	for _, host := range []string{"localhost", "127.0.0.1"} {
		nc, err := nats.Connect(fmt.Sprintf("tls://%s:%d", host, port), fleet.OperatorOptions(creds, f.a.CAPath())...)
		if err != nil {
			t.Errorf("connect to %s: %v", host, err)
			continue
		}
		nc.Close()
	}
	c, err := net.DialTimeout("tcp", f.s.Addr().String(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	info, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(info, `"tls_required":true`) {
		t.Errorf("INFO does not require TLS: %s", info)
	}
	if _, err := io.WriteString(c, "CONNECT {\"verbose\":false,\"pedantic\":false}\r\nPING\r\n"); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(r) // until the broker hangs up
	if strings.Contains(string(rest), "PONG") {
		t.Errorf("a plaintext client was answered: %q", rest)
	}
	// And a client of the nats library that trusts only the system's
	// roots does not get through either.
	if nc, err := nats.Connect(f.url, nats.NoReconnect()); err == nil {
		nc.Close()
		t.Error("a client without the fleet's CA connected")
	}
}

// TestUserRoles: a reader reads the status bucket and asks fan-out
// requests, but cannot put desired state; an admin can.
func TestUserRoles(t *testing.T) {
	f := newSecureFleet(t)
	ctx := context.Background()
	if _, err := f.kv(t, fleet.StatusBucket).Put(ctx, fleet.StatusKey("n1"), []byte(`{"node":"n1","state":0}`)); err != nil {
		t.Fatal(err)
	}
	if err := fleet.EnsureBuckets(ctx, f.js); err != nil { // again: a second serve start
		t.Fatal(err)
	}
	if _, err := f.kv(t, fleet.Bucket).Put(ctx, "all", []byte("# all\n")); err != nil {
		t.Fatalf("an admin's put: %v", err)
	}
	creds, err := f.a.User("alice", fleet.RoleReader, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "alice.creds")
	if err := os.WriteFile(path, creds, 0o600); err != nil {
		t.Fatal(err)
	}
	v := make(violations, 16)
	nc, err := nats.Connect(f.url, append(fleet.OperatorOptions(path, f.a.CAPath()), nats.ErrorHandler(v.handler))...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	skv, err := js.KeyValue(ctx, fleet.StatusBucket)
	if err != nil {
		t.Fatal(err)
	}
	known, err := operator.ReadStatus(ctx, skv)
	if err != nil || known.Status["n1"].Node != "n1" {
		t.Fatalf("a reader's ReadStatus: %+v %v", known, err)
	}
	if e, err := skv.Get(ctx, fleet.StatusKey("n1")); err != nil || e.Revision() == 0 {
		t.Fatalf("a reader's get: %v", err)
	}
	// A fan-out request gets its answers (a node of the admin's here).
	sub, err := f.admin.Subscribe(fleet.RPCSubject, func(m *nats.Msg) { m.Respond([]byte(`{"node":"n1"}`)) })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	f.admin.Flush()
	res, err := operator.Ask(ctx, nc, fleet.Request{Cmd: "ping"}, time.Minute, 2*time.Minute, []string{"n1"}, nil)
	if err != nil || len(res.Replies) != 1 {
		t.Fatalf("a reader's fan-out: %+v %v", res, err)
	}
	v.none(t, nc)

	v.refused(t, "a reader's KeyValue(desired)", "$JS.API.STREAM.INFO.KV_unit-desired", func(ctx context.Context) error {
		_, err := js.KeyValue(ctx, fleet.Bucket)
		return err
	})
	v.refused(t, "a reader's put of desired state", "$KV.unit-desired.all", func(ctx context.Context) error {
		_, err := js.Publish(ctx, "$KV.unit-desired.all", []byte("x"))
		return err
	})
	v.refused(t, "a reader's put of a status", "$KV.unit-status.node.n1", func(ctx context.Context) error {
		_, err := skv.Put(ctx, fleet.StatusKey("n1"), []byte("{}"))
		return err
	})
	if e, err := f.kv(t, fleet.Bucket).Get(ctx, "all"); err != nil || string(e.Value()) != "# all\n" {
		t.Errorf("desired state after the reader: %v", err)
	}

	// Desired state is not a reader's to read: not from the bucket, and
	// not from an admin's answers (each operator's inbox is its own).
	desired := f.kv(t, fleet.Bucket)
	if _, err := desired.Put(ctx, "node.n2", []byte("password = \"hunter2\"\n")); err != nil {
		t.Fatal(err)
	}
	v.refused(t, "a reader's direct get of a node's layer", "$JS.API.DIRECT.GET.KV_unit-desired", func(ctx context.Context) error {
		_, err := nc.RequestWithContext(ctx, "$JS.API.DIRECT.GET.KV_unit-desired.$KV.unit-desired.node.n2", nil)
		return err
	})
	v.refused(t, "a reader's get of a node's layer", "$JS.API.STREAM.MSG.GET.KV_unit-desired", func(ctx context.Context) error {
		_, err := nc.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET.KV_unit-desired", []byte(`{"last_by_subj":"$KV.unit-desired.node.n2"}`))
		return err
	})
	adminCreds, err := os.ReadFile(filepath.Join(f.a.Dir, adminCredsFile))
	if err != nil {
		t.Fatal(err)
	}
	adminJWT, _ := jwt.ParseDecoratedJWT(adminCreds)
	adminClaims, err := jwt.DecodeUserClaims(adminJWT)
	if err != nil {
		t.Fatal(err)
	}
	for what, inbox := range map[string]string{"every inbox": "_INBOX.>", "the admin's inbox": fleet.OperatorInbox(adminClaims.Subject) + ".>"} {
		v.refused(t, "a reader listening on "+what, inbox, func(ctx context.Context) error {
			sub, err := nc.SubscribeSync(inbox)
			if err != nil {
				return err
			}
			defer sub.Unsubscribe()
			if err := nc.Flush(); err != nil {
				return err
			}
			if _, err := desired.Get(ctx, "node.n2"); err != nil { // the admin asks
				return err
			}
			m, err := sub.NextMsgWithContext(ctx)
			if err == nil && !strings.Contains(string(m.Data), "hunter2") {
				err = fmt.Errorf("heard %q, not the admin's answer", m.Data)
			}
			return err
		})
	}
}

// TestServerCertRenewed: the broker's certificate is made again when it
// nears its end, and never outlives the CA.
func TestServerCertRenewed(t *testing.T) {
	a, err := Open(filepath.Join(t.TempDir(), "auth"))
	if err != nil {
		t.Fatal(err)
	}
	dns, ips, err := serverNames(nil)
	if err != nil {
		t.Fatal(err)
	}
	sc := &serverCert{ca: a.ca, dns: dns, ips: ips}
	first, err := sc.get(nil)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := sc.get(nil); again != first {
		t.Error("a fresh certificate was made again")
	}
	old, err := a.ca.issueServer(dns, ips, time.Now().Add(-serverCertLife+serverCertRenew/2))
	if err != nil {
		t.Fatal(err)
	}
	sc.cur = old
	if renewed, _ := sc.get(nil); renewed == old || !renewed.Leaf.NotAfter.After(old.Leaf.NotAfter) {
		t.Error("a certificate near its end was not renewed")
	}
	late, _ := a.ca.issueServer(dns, ips, a.ca.cert.NotAfter.Add(-time.Hour))
	if late.Leaf.NotAfter.After(a.ca.cert.NotAfter) {
		t.Error("a server certificate outlives its CA")
	}
	if _, _, err := serverNames([]string{"bad name/x"}); err == nil {
		t.Error("a bad server name was taken")
	}
}

// applyTrust is fleet/broker's Apply, which this package's tests cannot
// import (it imports this package).
func applyTrust(t *testing.T, tr *Trust, o *server.Options) {
	t.Helper()
	res := &server.MemAccResolver{}
	for pub, tok := range tr.Accounts {
		if err := res.Store(pub, tok); err != nil {
			t.Fatal(err)
		}
	}
	o.TrustedOperators = []*jwt.OperatorClaims{tr.Operator}
	o.AccountResolver, o.SystemAccount, o.JetStream = res, tr.SystemAccount, true
	o.TLSConfig, o.TLS, o.AllowNonTLS = tr.TLS, true, false
}

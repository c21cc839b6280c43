package broker

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/fleet"
	"github.com/unit-os/unit/fleet/agent"
	"github.com/unit-os/unit/fleet/authority"
)

// TestServe: the broker serves TLS with JWT auth only, makes the fleet's
// buckets and the admin's creds, and enrols a node with a token; a
// client without credentials, and one without the fleet's CA, are
// refused; it stops
// with its context.
func TestServe(t *testing.T) {
	store := filepath.Join(t.TempDir(), "store")
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), "127.0.0.1", -1, store, nil, func(u string) { urls <- u })
	}()
	var url string
	select {
	case url = <-urls:
	case err := <-done:
		t.Fatalf("serve ended: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("serve did not start")
	}
	admin, err := nats.Connect(url, fleet.OperatorOptions(filepath.Join(store, "admin.creds"), filepath.Join(store, "ca.pem"))...)
	if err != nil {
		t.Fatalf("admin: %v", err)
	}
	defer admin.Close()
	js, _ := jetstream.New(admin)
	for _, b := range []string{fleet.Bucket, fleet.StatusBucket} {
		if _, err := js.KeyValue(ctx, b); err != nil {
			t.Errorf("bucket %s: %v", b, err)
		}
	}
	if _, err := js.ObjectStore(ctx, fleet.ContentBucket); err != nil {
		t.Errorf("content store: %v", err)
	}
	if nc, err := nats.Connect(url, nats.RootCAs(filepath.Join(store, "ca.pem"))); err == nil {
		nc.Close()
		t.Error("a client without credentials was let in")
	}
	if nc, err := nats.Connect(strings.Replace(url, "tls://", "nats://", 1)); err == nil {
		nc.Close()
		t.Error("a client without the fleet's CA or credentials was let in (a plaintext client is TestBrokerTLS's)")
	}
	a, err := authority.Open(store)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := a.Token([]string{"web"}, 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := agent.Enroll(ctx, url, tok, "web-1", []string{"web"}, filepath.Join(t.TempDir(), "node"))
	if err != nil {
		t.Fatalf("enrol: %v", err)
	}
	nc, err := nats.Connect(url, creds.Options("web-1")...)
	if err != nil {
		t.Fatalf("the node connects: %v", err)
	}
	nc.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil && err != context.Canceled {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop")
	}
}

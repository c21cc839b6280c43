package agent

import (
	"context"
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

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/fleet"
)

// embedded starts a nats-server with JetStream on loopback, stored in a
// temporary directory, and returns a KV bucket of desired state on it.
func embedded(t *testing.T) (*server.Server, jetstream.KeyValue) {
	t.Helper()
	s := startServer(t, &server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true})
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.CreateKeyValue(context.Background(), jetstream.KeyValueConfig{Bucket: fleet.Bucket, History: 5})
	if err != nil {
		t.Fatal(err)
	}
	return s, kv
}

// applied collects what the agent did, so a test waits on it rather than
// on time.
type applied chan string

func (a applied) note(key string, _ uint64, removed bool) {
	if removed {
		key = "-" + key
	}
	a <- key
}

func (a applied) wait(t *testing.T, want string) {
	t.Helper()
	for {
		select {
		case got := <-a:
			if got == want {
				return
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("the agent never did %q", want)
		}
	}
}

// TestAgentLayers: the node's keys (all, its groups, its own) become
// layer files, other nodes' and groups' do not; an update rewrites the
// file and config.Load sees node > group > all; a deleted key's file goes,
// and one deleted while the agent was away goes when it comes back.
func TestAgentLayers(t *testing.T) {
	_, kv := embedded(t)
	ctx := context.Background()
	cfgDir := t.TempDir()
	os.WriteFile(filepath.Join(cfgDir, "local.toml"), []byte("[file.\"/etc/motd\"]\ncontent = \"local\\n\"\n"), 0o644)
	put := func(key, value string) {
		t.Helper()
		if _, err := kv.PutString(ctx, key, value); err != nil {
			t.Fatal(err)
		}
	}
	put("all", "[file.\"/etc/motd\"]\ncontent = \"all\\n\"\n")
	put("group.db", "[file.\"/etc/motd\"]\ncontent = \"db\\n\"\n")
	put("node.other", "[file.\"/etc/motd\"]\ncontent = \"other\\n\"\n")

	done := make(applied, 64)
	start := func() context.CancelFunc {
		actx, cancel := context.WithCancel(ctx)
		a := &Agent{OpenKV: opened(kv), ConfigDir: cfgDir, Node: "n1", Groups: []string{"web"},
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Applied: done.note}
		go a.Run(actx)
		return cancel
	}
	stop := start()
	done.wait(t, "all")
	motd := func() string {
		t.Helper()
		c, err := config.Load(cfgDir)
		if err != nil {
			t.Fatal(err)
		}
		return *c.Files["/etc/motd"].Content
	}
	if got := motd(); got != "all\n" {
		t.Errorf("with the all layer: %q", got)
	}
	put("group.web", "[file.\"/etc/motd\"]\ncontent = \"web\\n\"\n")
	done.wait(t, "group.web")
	put("node.n1", "[file.\"/etc/motd\"]\ncontent = \"n1\\n\"\n")
	done.wait(t, "node.n1")
	if got := motd(); got != "n1\n" {
		t.Errorf("with the node layer: %q", got)
	}
	names, _ := filepath.Glob(filepath.Join(cfgDir, config.LayerDir, "*"))
	for _, n := range names {
		if b := filepath.Base(n); b == "group.db.toml" || b == "node.other.toml" {
			t.Errorf("another node's or group's layer was written: %s", b)
		}
	}
	if err := kv.Delete(ctx, "node.n1"); err != nil {
		t.Fatal(err)
	}
	done.wait(t, "-node.n1")
	if got := motd(); got != "web\n" {
		t.Errorf("after the node layer went: %q", got)
	}

	// Away: the group layer is deleted meanwhile; back, its file goes.
	stop()
	if err := kv.Delete(ctx, "group.web"); err != nil {
		t.Fatal(err)
	}
	stop = start()
	defer stop()
	done.wait(t, "-group.web")
	if got := motd(); got != "all\n" {
		t.Errorf("after coming back: %q", got)
	}
	if _, err := os.Stat(filepath.Join(cfgDir, config.LayerDir, "group.web.toml")); err == nil {
		t.Error("the stale group layer is still there")
	}
}

// TestAgentRefusesBadNames: a group from facts that is not a layer name
// (it would be a path) is refused before anything is watched.
func TestAgentRefusesBadNames(t *testing.T) {
	_, kv := embedded(t)
	for _, g := range []string{"../etc", "a/b", "", "x y"} {
		a := &Agent{OpenKV: opened(kv), ConfigDir: t.TempDir(), Node: "n1", Groups: []string{g}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if err := a.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "is not a layer name") {
			t.Errorf("group %q: %v", g, err)
		}
	}
}

// TestAgentCache: layers the validator takes are kept in the cache, an
// invalid one is not; a node whose broker is out of reach at boot gets
// the cached layers back into its (fresh) config directory.
func TestAgentCache(t *testing.T) {
	_, kv := embedded(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfgDir, cache := t.TempDir(), filepath.Join(t.TempDir(), "cache")
	os.WriteFile(filepath.Join(cfgDir, "local.toml"), []byte("[file.\"/etc/motd\"]\ncontent = \"local\\n\"\n"), 0o644)
	kv.PutString(ctx, "all", "[file.\"/etc/motd\"]\ncontent = \"all\\n\"\n")
	kept := make(chan struct{}, 16)
	done := make(applied, 64)
	a := &Agent{OpenKV: opened(kv), ConfigDir: cfgDir, CacheDir: cache, Node: "n1", Log: quiet(),
		Applied: done.note, Kept: func() { kept <- struct{}{} }}
	go a.Run(ctx)
	waitKept := func() {
		t.Helper()
		select {
		case <-kept:
		case <-time.After(30 * time.Second):
			t.Fatal("the cache never took the layers")
		}
	}
	waitKept()
	if b, err := os.ReadFile(filepath.Join(cache, "all.toml")); err != nil || !strings.Contains(string(b), "all") {
		t.Fatalf("cache: %q %v", b, err)
	}
	// An invalid node layer reaches the config directory (unit will
	// refuse it with its file and line) but not the cache.
	kv.PutString(ctx, "node.n1", "[file.\"/etc/motd\"\ncontent = \n")
	done.wait(t, "node.n1")
	if _, err := os.Stat(filepath.Join(cfgDir, config.LayerDir, "node.n1.toml")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cache, "node.n1.toml")); err == nil {
		t.Fatal("an invalid layer was cached")
	}
	// Mended: cached.
	kv.PutString(ctx, "node.n1", "[file.\"/etc/motd\"]\ncontent = \"n1\\n\"\n")
	waitKept()
	if _, err := os.Stat(filepath.Join(cache, "node.n1.toml")); err != nil {
		t.Fatal("the mended layer was not cached")
	}
	cancel()

	// A reboot: a fresh config directory, the broker out of reach.
	fresh := t.TempDir()
	os.WriteFile(filepath.Join(fresh, "local.toml"), []byte("[file.\"/etc/motd\"]\ncontent = \"local\\n\"\n"), 0o644)
	opened := make(chan struct{}, 1)
	b := &Agent{ConfigDir: fresh, CacheDir: cache, Node: "n1", Log: quiet(),
		OpenKV: func(context.Context) (jetstream.KeyValue, error) {
			select {
			case opened <- struct{}{}:
			default:
			}
			return nil, errors.New("no broker")
		}}
	bctx, bcancel := context.WithCancel(context.Background())
	defer bcancel()
	go b.Run(bctx)
	select {
	case <-opened: // the restore happens before the first try
	case <-time.After(30 * time.Second):
		t.Fatal("the agent never tried the broker")
	}
	c, err := config.Load(fresh)
	if err != nil {
		t.Fatal(err)
	}
	if got := *c.Files["/etc/motd"].Content; got != "n1\n" {
		t.Errorf("after a boot without the broker: %q, want the cached node layer", got)
	}
}

// TestAgentResumesAfterReconnect: the broker restarts; on the reconnect
// the agent makes its watches again from the revisions it applied (no
// layer is written again), and a later push converges.
func TestAgentResumesAfterReconnect(t *testing.T) {
	store := t.TempDir()
	opts := &server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: store, NoSigs: true}
	s := startServer(t, opts)
	opts.Port = s.Addr().(*net.TCPAddr).Port
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reconnected, back := make(chan struct{}, 1), make(chan struct{}, 1)
	nc, err := nats.Connect(s.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond),
		nats.ReconnectHandler(func(*nats.Conn) { reconnected <- struct{}{}; back <- struct{}{} }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: fleet.Bucket, History: 5, Storage: jetstream.FileStorage})
	if err != nil {
		t.Fatal(err)
	}
	kv.PutString(ctx, "all", "# all\n")
	kv.PutString(ctx, "node.n1", "# n1 v1\n")
	done := make(chan string, 64)
	a := &Agent{OpenKV: func(ctx context.Context) (jetstream.KeyValue, error) { return NodeKV(js.Conn(), fleet.Bucket) },
		ConfigDir: t.TempDir(), Node: "n1", Log: quiet(), Reconnected: reconnected, Jitter: 100 * time.Millisecond,
		Applied: func(key string, rev uint64, _ bool) { done <- fmt.Sprintf("%s@%d", key, rev) }}
	go a.Run(ctx)
	for range 2 {
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("the agent never applied the first layers")
		}
	}

	s.Shutdown()
	s.WaitForShutdown()
	s = startServer(t, opts)
	start := time.Now()
	select {
	case <-back:
	case <-time.After(30 * time.Second):
		t.Fatal("the client never reconnected")
	}
	rev, err := kv.PutString(ctx, "node.n1", "# n1 v2\n")
	if err != nil {
		t.Fatalf("put after the restart: %v", err)
	}
	// The first thing the agent does after the reconnect is the new
	// revision: a resumed watch does not bring back what was applied.
	select {
	case got := <-done:
		if want := fmt.Sprintf("node.n1@%d", rev); got != want {
			t.Fatalf("after the reconnect the agent did %s first, want %s", got, want)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the push after the restart never arrived")
	}
	t.Logf("restart to converged: %v", time.Since(start))
	b, _ := os.ReadFile(filepath.Join(a.ConfigDir, config.LayerDir, "node.n1.toml"))
	if string(b) != "# n1 v2\n" {
		t.Errorf("layer: %q", b)
	}
}

func startServer(t *testing.T, o *server.Options) *server.Server {
	t.Helper()
	s, err := tryServer(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// tryServer starts a nats-server and waits until it takes connections
// (generously: a loaded machine running -race is slow to start one).
func tryServer(o *server.Options) (*server.Server, error) {
	s, err := server.NewServer(o)
	if err != nil {
		return nil, err
	}
	go s.Start()
	if !s.ReadyForConnections(60 * time.Second) {
		s.Shutdown()
		return nil, errors.New("nats-server did not start")
	}
	return s, nil
}

// opened is an Agent's OpenKV for a bucket the test has open.
func opened(kv jetstream.KeyValue) func(context.Context) (jetstream.KeyValue, error) {
	return func(context.Context) (jetstream.KeyValue, error) { return kv, nil }
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

package fleet

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/config"
)

// embedded starts a nats-server with JetStream on loopback, stored in a
// temporary directory, and returns a KV bucket of desired state on it.
func embedded(t *testing.T) (*server.Server, jetstream.KeyValue) {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(s.Shutdown)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.CreateKeyValue(context.Background(), jetstream.KeyValueConfig{Bucket: Bucket, History: 5})
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
		a := &Agent{KV: kv, ConfigDir: cfgDir, Node: "n1", Groups: []string{"web"},
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
		a := &Agent{KV: kv, ConfigDir: t.TempDir(), Node: "n1", Groups: []string{g}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if err := a.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "is not a layer name") {
			t.Errorf("group %q: %v", g, err)
		}
	}
}

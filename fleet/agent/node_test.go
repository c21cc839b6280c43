package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/fleet"
	"github.com/unit-os/unit/fleet/operator"
)

// TestUseIMDS: IMDS is read when asked (on), or in auto when no NoCloud
// seed gave the facts; never when off.
func TestUseIMDS(t *testing.T) {
	seed := map[string]string{"seed": "nocloud", "instance_id": "i-1"}
	none := map[string]string{}
	for _, c := range []struct {
		mode  string
		facts map[string]string
		want  bool
	}{
		{"on", seed, true}, {"on", none, true},
		{"auto", seed, false}, {"auto", none, true},
		{"off", seed, false}, {"off", none, false},
	} {
		if got := UseIMDS(c.mode, c.facts); got != c.want {
			t.Errorf("UseIMDS(%q, seed=%q) = %v, want %v", c.mode, c.facts["seed"], got, c.want)
		}
	}
}

// TestNodeID: --node, else the platform's instance_id, else the
// hostname; whichever it is must be a layer name, and the error says
// which id it was.
func TestNodeID(t *testing.T) {
	host := func() (string, error) { return "host-1", nil }
	noHost := func() (string, error) { return "", errors.New("no hostname") }
	facts := map[string]string{"instance_id": "i-0abc"}
	for _, c := range []struct {
		flag  string
		facts map[string]string
		host  func() (string, error)
		want  string
	}{
		{"web-1", facts, host, "web-1"},
		{"", facts, host, "i-0abc"},
		{"", map[string]string{}, host, "host-1"},
	} {
		got, err := NodeID(c.flag, c.facts, c.host)
		if err != nil || got != c.want {
			t.Errorf("NodeID(%q, %v): %q %v, want %q", c.flag, c.facts, got, err, c.want)
		}
	}
	for _, c := range []struct {
		flag  string
		facts map[string]string
		host  func() (string, error)
		want  string
	}{
		{"a.b", facts, host, `node id "a.b"`},
		{"", map[string]string{"instance_id": "../x"}, host, `node id "../x"`},
		{"", map[string]string{}, noHost, `node id ""`},
	} {
		if _, err := NodeID(c.flag, c.facts, c.host); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NodeID(%q, %v): %v, want an error naming %s", c.flag, c.facts, err, c.want)
		}
	}
}

// TestGroups: the groups given, then the values of the named facts the
// node has, in order.
func TestGroups(t *testing.T) {
	facts := map[string]string{"role": "web", "dc": "ams1"}
	got := Groups([]string{"all-web"}, "role, dc,,missing", facts)
	if want := []string{"all-web", "web", "ams1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Groups: %q, want %q", got, want)
	}
	if got := Groups(nil, "", facts); len(got) != 0 {
		t.Errorf("Groups without groups-from: %q", got)
	}
}

// TestConnOptions: the agent's connection reconnects for ever (also when
// the first connect fails), pings every 20 s with three outstanding, waits
// 1 s plus up to 1 s (2 s with TLS) between attempts, and tells of each
// reconnect.
func TestConnOptions(t *testing.T) {
	o := nats.GetDefaultOptions()
	for _, opt := range ConnOptions("n1", func() {}) {
		if err := opt(&o); err != nil {
			t.Fatal(err)
		}
	}
	if o.Name != "unit-fleet agent n1" || o.MaxReconnect != -1 || !o.RetryOnFailedConnect ||
		o.PingInterval != 20*time.Second || o.MaxPingsOut != 3 ||
		o.ReconnectWait != time.Second || o.ReconnectJitter != time.Second || o.ReconnectJitterTLS != 2*time.Second {
		t.Errorf("options: name %q, max reconnects %d, retry on failed connect %v, ping %s x%d, reconnect wait %s jitter %s/%s",
			o.Name, o.MaxReconnect, o.RetryOnFailedConnect, o.PingInterval, o.MaxPingsOut, o.ReconnectWait, o.ReconnectJitter, o.ReconnectJitterTLS)
	}
}

// TestConnOptionsReconnect: after the broker comes back (here: a real
// nats-server restarted on the same port), reconnected is called.
func TestConnOptionsReconnect(t *testing.T) {
	s := startServer(t, &server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true})
	url := s.ClientURL()
	port, err := strconv.Atoi(url[strings.LastIndex(url, ":")+1:])
	if err != nil {
		t.Fatal(err)
	}
	reconnected := make(chan struct{}, 1)
	nc, err := nats.Connect(url, ConnOptions("n1", func() { reconnected <- struct{}{} })...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	s.Shutdown()
	s.WaitForShutdown()
	startServer(t, &server.Options{Host: "127.0.0.1", Port: port, NoSigs: true})
	select {
	case <-reconnected:
	case <-time.After(time.Minute):
		t.Fatal("no reconnect was told")
	}
}

// TestBackoff: a failure's pause starts at 1 s and doubles to at most
// 30 s.
func TestBackoff(t *testing.T) {
	var b backoff
	var got []time.Duration
	for range 8 {
		got = append(got, b.next())
	}
	s := time.Second
	want := []time.Duration{s, 2 * s, 4 * s, 8 * s, 16 * s, 30 * s, 30 * s, 30 * s}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("backoff: %v, want %v", got, want)
	}
}

// TestRetry: a success is returned at once; a permanent failure is not
// tried again; a passing one is tried again until ctx ends.
func TestRetry(t *testing.T) {
	ctx := context.Background()
	calls := 0
	v, err := retry(ctx, quiet(), "x", func() (int, error) { calls++; return 7, nil })
	if v != 7 || err != nil || calls != 1 {
		t.Errorf("a success: %d %v after %d calls", v, err, calls)
	}
	calls = 0
	refused := permanent(errors.New("refused"))
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	_, err = retry(pctx, quiet(), "x", func() (int, error) {
		if calls++; calls > 1 {
			stop() // tried again: end it, and fail below
		}
		return 0, refused
	})
	if !errors.Is(err, refused) || calls != 1 {
		t.Errorf("a permanent failure: %v after %d calls, want it after 1", err, calls)
	}
	calls = 0
	cctx, cancel := context.WithCancel(ctx)
	_, err = retry(cctx, quiet(), "x", func() (int, error) { calls++; cancel(); return 0, errors.New("out of reach") })
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Errorf("a passing failure when ctx ends: %v after %d calls", err, calls)
	}
}

// TestEnrol: without a token and without credentials the agent goes on
// without (a development broker), asking nobody; a token file that
// cannot be read, and a token that is not one, end it at once.
func TestEnrol(t *testing.T) {
	ctx := context.Background()
	const nowhere = "tls://127.0.0.1:1"
	state := filepath.Join(t.TempDir(), "state")
	c, err := enrol(ctx, quiet(), nowhere, filepath.Join(t.TempDir(), "no-token"), state, "n1", nil)
	if c != nil || err != nil {
		t.Errorf("no token, no creds: %v %v, want neither", c, err)
	}
	empty := filepath.Join(t.TempDir(), "token")
	os.WriteFile(empty, nil, 0o600)
	if c, err := enrol(ctx, quiet(), nowhere, empty, state, "n1", nil); c != nil || err != nil {
		t.Errorf("an empty token, no creds: %v %v, want neither", c, err)
	}
	if _, err := enrol(ctx, quiet(), nowhere, t.TempDir(), state, "n1", nil); err == nil {
		t.Error("a token file that is a directory: no error")
	}
	bad := filepath.Join(t.TempDir(), "token")
	os.WriteFile(bad, []byte("not-a-token\n"), 0o600)
	_, err = enrol(ctx, quiet(), nowhere, bad, filepath.Join(t.TempDir(), "state"), "n1", nil)
	if err == nil || !Permanent(err) || !strings.Contains(err.Error(), "not a unit fleet token") {
		t.Errorf("a token that is not one: %v, want a permanent error at once", err)
	}
}

// TestFetcher: the agent's fetch takes content by hash from the content
// store of a real broker into its directory; without the store it says
// so.
func TestFetcher(t *testing.T) {
	s, _ := embedded(t)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "content")
	if _, err := Fetcher(js, dir)(ctx, fleet.ContentName(make([]byte, 32))); err == nil || !strings.Contains(err.Error(), "content store") {
		t.Errorf("no content store: %v", err)
	}
	if err := fleet.EnsureBuckets(ctx, js); err != nil {
		t.Fatal(err)
	}
	obs, err := js.ObjectStore(ctx, fleet.ContentBucket)
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "bundle")
	os.WriteFile(src, []byte("a bundle"), 0o644)
	name, err := operator.PutContent(ctx, obs, src)
	if err != nil {
		t.Fatal(err)
	}
	path, err := Fetcher(js, dir)(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); path != filepath.Join(dir, name) || string(b) != "a bundle" {
		t.Errorf("fetched %s: %q", path, b)
	}
}

// TestMachineFacts: the kernel, the architecture, the cpus and unit's
// release are added; a fact the platform gave is kept.
func TestMachineFacts(t *testing.T) {
	sock := unitSocket(t, func(ctx context.Context, req api.Request, send func(any) error) error {
		return send(api.StatusReply{Release: "r42"})
	})
	facts := map[string]string{"arch": "from-the-platform"}
	machineFacts(context.Background(), facts, sock)
	if facts["arch"] != "from-the-platform" || facts["cpus"] != strconv.Itoa(runtime.NumCPU()) || facts["kernel"] == "" || facts["release"] != "r42" {
		t.Errorf("facts: %v", facts)
	}
	facts = map[string]string{}
	machineFacts(context.Background(), facts, filepath.Join(t.TempDir(), "no.sock"))
	if _, ok := facts["release"]; ok || facts["arch"] != runtime.GOARCH {
		t.Errorf("facts without unit: %v", facts)
	}
}

// TestRunNeedsBroker: with no URL given and no fleet_url fact, the
// agent stops before connecting, saying where a broker is named.
func TestRunNeedsBroker(t *testing.T) {
	unitState := t.TempDir()
	os.WriteFile(filepath.Join(unitState, "platform.json"), []byte(`{"instance_id":"n1","seed":"nocloud"}`), 0o644)
	err := Run(context.Background(), Config{UnitState: unitState, IMDS: "auto", State: t.TempDir(), ConfigDir: t.TempDir(),
		Socket: filepath.Join(t.TempDir(), "no.sock"), Log: quiet()})
	if err == nil || !strings.Contains(err.Error(), "no broker") {
		t.Errorf("Run without a broker: %v", err)
	}
}

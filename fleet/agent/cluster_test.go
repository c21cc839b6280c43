package agent

import (
	"context"
	"errors"
	"fmt"
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

// clusterStream is the JetStream stream behind the bucket of desired state.
const clusterStream = "KV_" + fleet.Bucket

// TestClusterFailover: three nats-servers clustered on loopback, the
// bucket of desired state replicated on all three; the server a node is
// connected to (and that holds the ordered consumer of its node.ID watch)
// is killed. The node's connection fails over to a survivor, and a value
// put after the failover is the first thing the agent applies (nothing
// applied before is applied again). Two ways:
//
//   - reconnect: the agent gets the connection's reconnects and makes its
//     watches again at once (after its jitter) from the applied revisions;
//   - heartbeat: Reconnected is nil, and the watch's ordered consumer has
//     to notice by itself that its consumer is gone: nats.go looks every
//     two idle heartbeats (2 x 5 s) whether anything came since the last
//     look, so it takes 10 to 20 s; here close to 20, as the kill comes
//     just after the watch delivered its value.
//
// The time from the kill to the new value applied is logged for each.
func TestClusterFailover(t *testing.T) {
	t.Run("reconnect", func(t *testing.T) { clusterFailover(t, true, 30*time.Second) })
	t.Run("heartbeat", func(t *testing.T) {
		if testing.Short() {
			t.Skip("waits for the idle heartbeats of the ordered consumers (10-20 s)")
		}
		clusterFailover(t, false, 90*time.Second)
	})
}

func clusterFailover(t *testing.T, restartOnReconnect bool, converge time.Duration) {
	servers := startCluster(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The bucket, made through any server once the meta group has a leader
	// (a retry: the first requests may come before every peer is known).
	setup := clusterConnect(t, clusterURLs(servers))
	sjs, _ := jetstream.New(setup)
	var kv jetstream.KeyValue
	clusterRetry(t, 60*time.Second, "create the replicated bucket", func() error {
		rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
		defer rcancel()
		var err error
		kv, err = sjs.CreateKeyValue(rctx, jetstream.KeyValueConfig{Bucket: fleet.Bucket, History: 5,
			Replicas: 3, Storage: jetstream.FileStorage})
		return err
	})
	put := func(key, value string) uint64 {
		t.Helper()
		var rev uint64
		clusterRetry(t, 30*time.Second, "put "+key, func() error {
			rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
			defer rcancel()
			var err error
			rev, err = kv.PutString(rctx, key, value)
			return err
		})
		return rev
	}
	revAll, revN1 := put("all", "# all\n"), put("node.n1", "# n1 v1\n")
	// Every replica has both values before anything is killed.
	clusterWait(t, 30*time.Second, "the stream current on every server", func() bool {
		for _, s := range servers {
			if !s.JetStreamIsStreamCurrent(server.DEFAULT_GLOBAL_ACCOUNT, clusterStream) {
				return false
			}
		}
		return true
	})

	// The node's server: one that leads neither the meta group nor the
	// stream, so that what is measured is the watches coming back, not an
	// election (the put after the kill goes through at once).
	victim := servers[0]
	for _, s := range servers {
		if !s.JetStreamIsLeader() && !s.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, clusterStream) {
			victim = s
			break
		}
	}
	var survivors []*server.Server
	for _, s := range servers {
		if s != victim {
			survivors = append(survivors, s)
		}
	}
	setup.Close()
	admin := clusterConnect(t, clusterURLs(survivors))
	ajs, _ := jetstream.New(admin)

	// The node: its server first, the others to fail over to.
	reconnected, back := make(chan struct{}, 1), make(chan struct{}, 1)
	nc, err := nats.Connect(strings.Join(clusterURLs(append([]*server.Server{victim}, survivors...)), ","),
		nats.DontRandomize(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond),
		nats.ReconnectHandler(func(*nats.Conn) {
			select {
			case reconnected <- struct{}{}:
			default:
			}
			select {
			case back <- struct{}{}:
			default:
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if nc.ConnectedServerName() != victim.Name() {
		t.Fatalf("the node is on %s, want %s", nc.ConnectedServerName(), victim.Name())
	}
	js, _ := jetstream.New(nc)

	done := make(chan string, 64)
	cfgDir := t.TempDir()
	agent := func() (stop func()) {
		a := &Agent{OpenKV: func(ctx context.Context) (jetstream.KeyValue, error) { return NodeKV(js.Conn(), fleet.Bucket) },
			ConfigDir: cfgDir, Node: "n1", Log: quiet(), Jitter: 100 * time.Millisecond,
			Applied: func(key string, rev uint64, _ bool) { done <- fmt.Sprintf("%s@%d", key, rev) }}
		if restartOnReconnect {
			a.Reconnected = reconnected
		}
		actx, acancel := context.WithCancel(ctx)
		ended := make(chan struct{})
		go func() { defer close(ended); a.Run(actx) }()
		// Its first two layers, in either order.
		want := map[string]bool{fmt.Sprintf("all@%d", revAll): true, fmt.Sprintf("node.n1@%d", revN1): true}
		for len(want) > 0 {
			select {
			case got := <-done:
				if !want[got] {
					t.Fatalf("the agent applied %s, want one of %v", got, want)
				}
				delete(want, got)
			case <-time.After(30 * time.Second):
				t.Fatalf("the agent never applied %v", want)
			}
		}
		return func() { acancel(); <-ended }
	}
	// The ordered consumers are R1 and the server puts each on one of the
	// stream's peers at random: the watch of node.n1 is only lost with the
	// node's server if its consumer lives there. Start the agent again (new
	// consumers) until it does, so both ways measure the same loss.
	stop := agent()
	host, starts := "", 1
	for ; ; starts++ {
		host = clusterConsumerHost(t, ajs, "node.n1")
		if host == victim.Name() || starts == 30 {
			break
		}
		stop()
		stop = agent()
	}
	defer stop()
	if host != victim.Name() {
		t.Logf("the consumer of node.n1 is on %s, not on the node's server %s", host, victim.Name())
	}
	t.Logf("node on %s (meta leader %v, stream leader %v); consumers: all on %s, node.n1 on %s (agent started %d times)",
		victim.Name(), victim.JetStreamIsLeader(), victim.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, clusterStream),
		clusterConsumerHost(t, ajs, "all"), host, starts)

	// Kill the node's server.
	start := time.Now()
	victim.Shutdown()
	victim.WaitForShutdown()
	select {
	case <-back:
	case <-time.After(30 * time.Second):
		t.Fatal("the node never reconnected")
	}
	reconnectedAfter := time.Since(start)
	if nc.ConnectedServerName() == victim.Name() {
		t.Fatalf("the node is still on %s", victim.Name())
	}

	// The new value through a survivor; a retry (while a leader is chosen)
	// carries the same message id, so the stream keeps it once.
	var rev uint64
	clusterRetry(t, 60*time.Second, "put node.n1 after the kill", func() error {
		rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
		defer rcancel()
		ack, err := ajs.Publish(rctx, "$KV."+fleet.Bucket+".node.n1", []byte("# n1 v2\n"), jetstream.WithMsgID("n1-v2"))
		if err == nil {
			rev = ack.Sequence
		}
		return err
	})
	putAfter := time.Since(start)
	select {
	case got := <-done:
		if want := fmt.Sprintf("node.n1@%d", rev); got != want {
			t.Fatalf("after the failover the agent did %s first, want %s", got, want)
		}
	case <-time.After(converge):
		t.Fatalf("the push after the failover was not applied within %v", converge)
	}
	t.Logf("kill to converged: %v (reconnected after %v, put acknowledged after %v; node now on %s)",
		time.Since(start).Round(time.Millisecond), reconnectedAfter.Round(time.Millisecond),
		putAfter.Round(time.Millisecond), nc.ConnectedServerName())
	b, _ := os.ReadFile(filepath.Join(cfgDir, config.LayerDir, "node.n1.toml"))
	if string(b) != "# n1 v2\n" {
		t.Errorf("layer: %q", b)
	}
}

// startCluster starts three JetStream servers clustered through routes on
// loopback and waits until the meta group has a leader that sees all
// three, and every server is current with it.
func startCluster(t *testing.T) []*server.Server {
	t.Helper()
	var servers []*server.Server
	for attempt := 1; ; attempt++ {
		var err error
		if servers, err = tryCluster(t); err == nil {
			break
		} else if attempt == 3 {
			t.Fatalf("the cluster did not start: %v", err)
		} else {
			// A route port picked free can be taken by another test
			// process before its server binds it: pick new ones.
			t.Logf("the cluster did not start (%v); again with new ports", err)
		}
	}
	clusterWait(t, 60*time.Second, "the JetStream meta group of three", func() bool {
		leaders := 0
		for _, s := range servers {
			if !s.JetStreamIsClustered() || !s.JetStreamIsCurrent() {
				return false
			}
			if s.JetStreamIsLeader() {
				if len(s.JetStreamClusterPeers()) != 3 {
					return false
				}
				leaders++
			}
		}
		return leaders == 1
	})
	return servers
}

func clusterURLs(servers []*server.Server) []string {
	var urls []string
	for _, s := range servers {
		urls = append(urls, s.ClientURL())
	}
	return urls
}

// tryCluster starts three clustered servers, or none.
func tryCluster(t *testing.T) ([]*server.Server, error) {
	t.Helper()
	// The route ports must be known before the servers start: each is
	// configured with the routes of all three (so the meta group expects
	// three peers).
	var ports []int
	var ls []net.Listener
	for range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	var routes []string
	for i, l := range ls {
		l.Close()
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[i]))
	}
	var servers []*server.Server
	for i := range 3 {
		s, err := tryServer(&server.Options{
			ServerName: fmt.Sprintf("s%d", i+1), Host: "127.0.0.1", Port: -1, NoSigs: true,
			JetStream: true, StoreDir: t.TempDir(),
			Cluster: server.ClusterOpts{Name: "fleet", Host: "127.0.0.1", Port: ports[i]},
			Routes:  server.RoutesFromStr(strings.Join(routes, ",")),
		})
		if err != nil {
			for _, s := range servers {
				s.Shutdown()
			}
			return nil, err
		}
		t.Cleanup(s.Shutdown)
		servers = append(servers, s)
	}
	return servers, nil
}

func clusterConnect(t *testing.T, urls []string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(strings.Join(urls, ","), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// clusterConsumerHost is the server of the newest consumer that watches
// key (those of an agent stopped before may linger a moment).
func clusterConsumerHost(t *testing.T, js jetstream.JetStream, key string) string {
	t.Helper()
	host := ""
	clusterRetry(t, 30*time.Second, "the consumer of "+key, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		st, err := js.Stream(ctx, clusterStream)
		if err != nil {
			return err
		}
		l := st.ListConsumers(ctx)
		var newest *jetstream.ConsumerInfo
		for ci := range l.Info() {
			if ci.Config.FilterSubject == "$KV."+fleet.Bucket+"."+key && (newest == nil || ci.Created.After(newest.Created)) {
				newest = ci
			}
		}
		if err := l.Err(); err != nil {
			return err
		}
		if newest == nil || newest.Cluster == nil || newest.Cluster.Leader == "" {
			return fmt.Errorf("no consumer of %s with a server", key)
		}
		host = newest.Cluster.Leader
		return nil
	})
	return host
}

// clusterRetry retries f until it succeeds, for at most d.
func clusterRetry(t *testing.T, d time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %v: %v", what, d, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// clusterWait waits until cond holds, for at most d.
func clusterWait(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	clusterRetry(t, d, what, func() error {
		if cond() {
			return nil
		}
		return errors.New("not yet")
	})
}

package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/fleet"
	"github.com/unit-os/unit/fleet/agent"
	"github.com/unit-os/unit/fleet/operator"
)

// fakeUnit answers the control socket as a node's unit would, for what
// the fleet side asks: status (a small reply: three services up), and
// events (held open with nothing to say, as an idle unit's).
func fakeUnit(ctx context.Context, req api.Request, send func(v any) error) error {
	switch req.Cmd {
	case "status":
		since := time.Now().Add(-time.Hour)
		st := api.StatusReply{Release: "bench"}
		for _, n := range []string{"nginx", "sshd", "chrony"} {
			st.Services = append(st.Services, api.ServiceStatus{Name: n, State: api.ServiceRunning, Enabled: true, PID: 100, Since: since, Ready: "yes"})
		}
		return send(st)
	case "events":
		<-ctx.Done()
		return nil
	}
	return fmt.Errorf("unknown command %q", req.Cmd)
}

// recorder keeps, per revision of the "all" key, when each node applied
// it (wrote its layer file).
type recorder struct {
	n    int
	mu   sync.Mutex
	revs map[uint64]*applied
}

type applied struct {
	at    []time.Time
	count int
	done  chan struct{} // closed when every node applied it
}

func newRecorder(n int) *recorder { return &recorder{n: n, revs: map[uint64]*applied{}} }

func (r *recorder) get(rev uint64) *applied {
	a := r.revs[rev]
	if a == nil {
		a = &applied{at: make([]time.Time, r.n), done: make(chan struct{})}
		r.revs[rev] = a
	}
	return a
}

// note is the agents' Applied callback: the time is taken first, so the
// lock's wait is not counted.
func (r *recorder) note(node int, key string, rev uint64, removed bool) {
	now := time.Now()
	if key != "all" || removed {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.get(rev)
	if a.at[node].IsZero() { // a resumed watch applies the same revision again
		a.at[node] = now
		if a.count++; a.count == r.n {
			close(a.done)
		}
	}
}

// wait returns when every node applied rev, or after limit with those
// that did (a benchmark reports, it does not hang).
func (r *recorder) wait(ctx context.Context, rev uint64, limit time.Duration) ([]time.Time, int) {
	r.mu.Lock()
	a := r.get(rev)
	r.mu.Unlock()
	select {
	case <-a.done:
	case <-time.After(limit):
	case <-ctx.Done():
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(a.at), a.count
}

// cluster is N nodes in this process, each as unit-fleet agent runs one:
// its own connection, a agent.Agent following all, group.web and its
// node key into its own config directory (and its cache of last good
// layers), a agent.Responder, and a agent.Reporter publishing its status
// on change.
type cluster struct {
	n       int
	names   []string
	rec     *recorder
	conns   []*nats.Conn
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started time.Duration // connect to every node following
}

type clusterOpts struct {
	url, dir, socket string
	n, parallel      int
	reporters        bool
	log              *slog.Logger
}

// startCluster connects the nodes (parallel at a time, as a fleet
// booting) and returns once all of them applied the current value of
// all, whose revision is initial.
func startCluster(ctx context.Context, o clusterOpts, initial uint64) (*cluster, error) {
	ctx, cancel := context.WithCancel(ctx)
	c := &cluster{n: o.n, rec: newRecorder(o.n), cancel: cancel, conns: make([]*nats.Conn, o.n)}
	for i := range o.n {
		c.names = append(c.names, fmt.Sprintf("n%04d", i))
	}
	facts := map[string]string{"role": "web"}
	start := time.Now()
	sem := make(chan struct{}, o.parallel)
	errs := make(chan error, o.n)
	var connecting sync.WaitGroup
	for i, id := range c.names {
		sem <- struct{}{}
		connecting.Go(func() {
			defer func() { <-sem }()
			if err := c.startNode(ctx, o, i, id, facts); err != nil {
				errs <- fmt.Errorf("node %s: %w", id, err)
			}
		})
	}
	connecting.Wait()
	close(errs)
	if err := <-errs; err != nil {
		c.stop()
		return nil, err
	}
	if _, got := c.rec.wait(ctx, initial, 5*time.Minute); got < o.n {
		c.stop()
		return nil, fmt.Errorf("%d of %d nodes followed within 5 min", got, o.n)
	}
	c.started = time.Since(start)
	return c, nil
}

func (c *cluster) startNode(ctx context.Context, o clusterOpts, i int, id string, facts map[string]string) error {
	reconnected := make(chan struct{}, 1)
	var rep *agent.Reporter
	if o.reporters {
		rep = &agent.Reporter{Node: id, Facts: facts, Socket: o.socket, Log: o.log}
	}
	// The connection options of cmd/unit-fleet/agent.go (its pings every
	// 20 s are part of the broker's idle load).
	nc, err := nats.Connect(o.url, nats.Name("bench "+id), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true),
		nats.PingInterval(20*time.Second), nats.MaxPingsOutstanding(3),
		nats.ReconnectWait(time.Second), nats.ReconnectJitter(time.Second, 2*time.Second),
		nats.CustomInboxPrefix(fleet.InboxPrefix(id)),
		nats.ReconnectHandler(func(*nats.Conn) {
			select {
			case reconnected <- struct{}{}:
			default:
			}
			if rep != nil {
				rep.Poke()
			}
		}))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	c.conns[i] = nc
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	if rep != nil {
		if rep.KV, err = js.KeyValue(ctx, fleet.StatusBucket); err != nil {
			return fmt.Errorf("open %s: %w", fleet.StatusBucket, err)
		}
	}
	a := &agent.Agent{
		OpenKV:    func(ctx context.Context) (jetstream.KeyValue, error) { return js.KeyValue(ctx, fleet.Bucket) },
		ConfigDir: filepath.Join(o.dir, id, "config"), CacheDir: filepath.Join(o.dir, id, "cache"),
		Node: id, Groups: []string{"web"}, Log: o.log, Reconnected: reconnected, Jitter: 2 * time.Second,
		Applied: func(key string, rev uint64, removed bool) {
			c.rec.note(i, key, rev, removed)
			if rep != nil {
				rep.Applied(key, rev, removed)
			}
		},
	}
	r := &agent.Responder{NC: nc, Node: id, Facts: facts, Socket: o.socket}
	c.wg.Go(func() {
		if err := a.Run(ctx); err != nil {
			o.log.Error("agent", "node", id, "err", err)
		}
	})
	c.wg.Go(func() {
		if err := r.Serve(ctx); err != nil && ctx.Err() == nil {
			o.log.Error("responder", "node", id, "err", err)
		}
	})
	if rep != nil {
		c.wg.Go(func() { rep.Run(ctx) })
	}
	return nil
}

// stop ends every node and closes the connections.
func (c *cluster) stop() {
	c.cancel()
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
	}
	for _, nc := range c.conns {
		if nc != nil {
			nc.Close()
		}
	}
}

// pushResult is one push of a new all value.
type pushResult struct {
	lat  []time.Duration // put to each node's layer file written
	last time.Duration   // put to the last node
	got  int             // nodes that applied it
}

// push puts value under all and waits for every node to apply it.
func (c *cluster) push(ctx context.Context, kv jetstream.KeyValue, value string) (pushResult, error) {
	t0 := time.Now()
	rev, err := kv.PutString(ctx, "all", value)
	if err != nil {
		return pushResult{}, fmt.Errorf("put all: %w", err)
	}
	at, got := c.rec.wait(ctx, rev, 2*time.Minute)
	res := pushResult{got: got}
	for _, t := range at {
		if t.IsZero() {
			continue
		}
		d := t.Sub(t0)
		res.lat = append(res.lat, d)
		res.last = max(res.last, d)
	}
	return res, nil
}

// fanoutResult is one kind of fan-out over rounds.
type fanoutResult struct {
	took       []time.Duration
	minReplies int
}

// fanout asks every node cmd, rounds times after one round to warm up,
// with fleet's default window of 300 ms. With expect, every node is
// expected: the wait ends when all answered (the window only counts once
// they are in); without, window after the last reply, as for nodes that
// published no status.
func (c *cluster) fanout(ctx context.Context, nc *nats.Conn, cmd string, expect bool, window time.Duration, rounds int) (fanoutResult, error) {
	var expected []string
	if expect {
		expected = c.names
	}
	res := fanoutResult{minReplies: c.n}
	for i := -1; i < rounds; i++ {
		r, err := operator.Ask(ctx, nc, fleet.Request{Cmd: cmd}, window, 30*time.Second, expected, nil)
		if err != nil {
			return res, fmt.Errorf("ask %s: %w", cmd, err)
		}
		for _, rep := range r.Replies {
			if rep.Error != "" {
				return res, fmt.Errorf("ask %s: %s answered %q", cmd, rep.Node, rep.Error)
			}
		}
		if i >= 0 {
			res.took = append(res.took, r.Took)
			res.minReplies = min(res.minReplies, len(r.Replies))
		}
		// Each round starts from a quiet fleet: the late replies of the
		// last are in.
		time.Sleep(20 * time.Millisecond)
	}
	return res, nil
}

// maxConsumers is what the desired-state stream is given when the limit
// is lifted: far above 3 per node.
const maxConsumers = 1 << 20

// createBuckets makes the fleet's buckets as unit-fleet-server does
// (fleet.EnsureBuckets). lift then sets the desired-state stream's
// max_consumers: nats-server 2.15 otherwise allows 1,000 consumers per
// stream (JSDefaultMaxConsumersPerStream; an unlimited account or stream,
// -1, counts as not set), and each node's 3 watches are 3 consumers of it.
func createBuckets(ctx context.Context, js jetstream.JetStream, lift bool) (jetstream.KeyValue, error) {
	if err := fleet.EnsureBuckets(ctx, js); err != nil {
		return nil, err
	}
	if lift {
		st, err := js.Stream(ctx, "KV_"+fleet.Bucket)
		if err != nil {
			return nil, fmt.Errorf("bucket %s: %w", fleet.Bucket, err)
		}
		cfg := st.CachedInfo().Config
		cfg.MaxConsumers = maxConsumers
		if _, err := js.UpdateStream(ctx, cfg); err != nil {
			return nil, fmt.Errorf("bucket %s: max_consumers: %w", fleet.Bucket, err)
		}
	}
	kv, err := js.KeyValue(ctx, fleet.Bucket)
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", fleet.Bucket, err)
	}
	return kv, nil
}

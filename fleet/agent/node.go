package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/fleet"
	"github.com/unit-os/unit/platform"
	"github.com/unit-os/unit/platform/imds"
)

// A node's agent as `unit-fleet agent` runs it: who the node is (its
// platform facts, IMDS, its own machine), its credentials (enrolment),
// its connection, and the three parts that run on it (the layers, the
// status, the answers).

// Config is what the agent is told (unit-fleet agent's flags).
type Config struct {
	URL        string   // the broker; "": the platform fact fleet_url
	Node       string   // this node's id; "": the platform's instance_id, else the hostname
	Groups     []string // groups this node is in
	GroupsFrom string   // platform facts whose values are groups, e.g. role,dc
	ConfigDir  string   // unit's config directory
	State      string   // the node's key, credentials and last good layers
	Socket     string   // unit's control socket
	UnitState  string   // unit's state directory, where its platform facts are
	TokenFile  string   // the provisioning token (first boot only)
	IMDS       string   // auto (when no seed gave facts), on, off
	Log        *slog.Logger
}

// Run runs the node's agent until ctx ends.
func Run(ctx context.Context, c Config) error {
	log := c.Log
	if log == nil {
		log = slog.Default()
	}
	factsPath := platform.FactsPath(c.UnitState)
	facts := readFacts(log, factsPath)
	if UseIMDS(c.IMDS, facts) {
		ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
		got, err := imds.Fetch(ictx, imds.Base, imds.Client())
		cancel()
		switch {
		case err != nil && c.IMDS == "on":
			return fmt.Errorf("imds: %w", err)
		case err != nil:
			log.Info("no IMDS metadata", "err", err)
		default:
			if _, err := platform.MergeFacts(factsPath, got); err != nil {
				return fmt.Errorf("imds: %w", err)
			}
			facts = readFacts(log, factsPath)
		}
	}
	machineFacts(ctx, facts, c.Socket)
	node, err := NodeID(c.Node, facts, os.Hostname)
	if err != nil {
		return err
	}
	groups := Groups(c.Groups, c.GroupsFrom, facts)
	url := c.URL
	if url == "" {
		url = facts["fleet_url"]
	}
	if url == "" {
		return errors.New("no broker: [fleet] url, --url or the platform fact fleet_url")
	}
	if err := os.MkdirAll(c.State, 0o700); err != nil {
		return err
	}

	reporter := &Reporter{Node: node, Facts: facts, Socket: c.Socket, Log: log}
	reconnected := make(chan struct{}, 1)
	a := &Agent{ConfigDir: c.ConfigDir, CacheDir: filepath.Join(c.State, "layers"), Node: node, Groups: groups, Log: log,
		Applied: reporter.Applied, Reconnected: reconnected, Jitter: 2 * time.Second}
	// The last good layers first: a node whose broker is down converges
	// to them now, not when the broker is back.
	a.Restore()

	opts := ConnOptions(node, func() {
		select {
		case reconnected <- struct{}{}:
		default:
		}
		reporter.Poke()
	})
	// Requests stamped before now may have been taken by this agent's
	// previous run, whose seen ids are gone: they are refused.
	started := time.Now()
	var verifier *fleet.Verifier
	var signer *fleet.Signer
	creds, err := enrol(ctx, log, url, c.TokenFile, c.State, node, groups)
	if err != nil {
		return err
	}
	if creds != nil {
		opts = append(opts, creds.Options(node)...)
		acct, err := creds.Account()
		if err != nil {
			return err
		}
		verifier = &fleet.Verifier{Account: acct, Since: started}
		if signer, err = creds.Signer(); err != nil {
			return err
		}
	} else {
		log.Warn("no fleet credentials and no token: connecting without; only unsigned read-only requests are answered")
		opts = append(opts, nats.CustomInboxPrefix(fleet.InboxPrefix(node)))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return fmt.Errorf("connect %s: %w", url, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	// NodeKV: a node may not look the buckets' streams up (that would
	// list every key); it watches its keys and puts its status without.
	a.OpenKV = func(context.Context) (jetstream.KeyValue, error) { return NodeKV(nc, fleet.Bucket) }
	log.Info("following", "url", url, "node", node, "keys", a.Keys())

	r := &Responder{NC: nc, Node: node, Facts: facts, Socket: c.Socket, Verifier: verifier, Signer: signer, Resource: ApplyResource,
		// On the data partition, beside the layers: a bundle is tens of
		// MB, more than /run should hold.
		Fetch: Fetcher(js, filepath.Join(c.State, "content"))}
	go func() {
		if err := r.Serve(ctx); err != nil {
			log.Error("fan-out requests", "err", err)
		}
	}()
	go func() {
		kv, err := retry(ctx, log, "status bucket", func() (jetstream.KeyValue, error) { return NodeKV(nc, fleet.StatusBucket) })
		if err == nil {
			reporter.KV = kv
			reporter.Run(ctx)
		}
	}()
	return a.Run(ctx)
}

// UseIMDS says whether the agent reads IMDSv2 metadata: mode on, or auto
// when no NoCloud seed gave the platform facts.
func UseIMDS(mode string, facts map[string]string) bool {
	return mode == "on" || mode == "auto" && facts["seed"] == ""
}

// NodeID is the node's id: id if given, else the platform's
// instance_id, else the hostname; it must be a layer name.
func NodeID(id string, facts map[string]string, hostname func() (string, error)) (string, error) {
	if id == "" {
		if id = facts["instance_id"]; id == "" {
			id, _ = hostname()
		}
	}
	if !fleet.ValidNode(id) {
		return "", fmt.Errorf("node id %q: letters, digits, - and _ only (--node)", id)
	}
	return id, nil
}

// Groups are the groups given and the values of the facts from names
// (comma-separated), those the node has.
func Groups(groups []string, from string, facts map[string]string) []string {
	for _, f := range strings.Split(from, ",") {
		if f = strings.TrimSpace(f); f != "" && facts[f] != "" {
			groups = append(groups, facts[f])
		}
	}
	return groups
}

// Reconnect bounds of the agent's connection.
const (
	pingInterval       = 20 * time.Second
	maxPingsOut        = 3
	reconnectWait      = time.Second
	reconnectJitter    = time.Second
	reconnectJitterTLS = 2 * time.Second
)

// ConnOptions are the agent's connection's options, its credentials
// aside: reconnect for ever (also when the first connect fails: the
// broker may not be up yet), and reconnected after each reconnect. The
// connection's pings are the one timer of ours: a broker that died
// without closing the connection is noticed within a minute (then the
// watches are made again on another server).
func ConnOptions(node string, reconnected func()) []nats.Option {
	return []nats.Option{nats.Name("unit-fleet agent " + node), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true),
		nats.PingInterval(pingInterval), nats.MaxPingsOutstanding(maxPingsOut),
		nats.ReconnectWait(reconnectWait), nats.ReconnectJitter(reconnectJitter, reconnectJitterTLS),
		nats.ReconnectHandler(func(*nats.Conn) { reconnected() })}
}

// Fetcher brings content by hash from js's content store into dir
// (Responder.Fetch).
func Fetcher(js jetstream.JetStream, dir string) func(ctx context.Context, name string) (string, error) {
	return func(ctx context.Context, name string) (string, error) {
		obs, err := js.ObjectStore(ctx, fleet.ContentBucket)
		if err != nil {
			return "", fmt.Errorf("content store: %w", err)
		}
		return FetchContent(ctx, obs, name, dir)
	}
}

// enrol returns the node's credentials: those it has (if they still fit
// its id and groups), or new ones for its provisioning token; nil with
// neither (a development broker without authentication).
func enrol(ctx context.Context, log *slog.Logger, url, tokenFile, state, node string, groups []string) (*Creds, error) {
	tok, err := os.ReadFile(tokenFile)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if len(tok) == 0 {
		if _, err := LoadCreds(state); err != nil {
			return nil, nil
		}
	}
	return retry(ctx, log, "enrol", func() (*Creds, error) {
		return Enroll(ctx, url, strings.TrimSpace(string(tok)), node, groups, state)
	})
}

// backoff is a failure's growing pause: 1 s, doubling, at most 30 s.
type backoff struct{ pause time.Duration }

const (
	backoffMin = time.Second
	backoffMax = 30 * time.Second
)

// next is the pause before the next attempt.
func (b *backoff) next() time.Duration {
	if b.pause == 0 {
		b.pause = backoffMin
	} else {
		b.pause = min(2*b.pause, backoffMax)
	}
	return b.pause
}

// retry calls f until it works, fails for good (Permanent) or ctx ends,
// with a growing pause (the broker may not be up yet; a failure's
// backoff, not a poll).
func retry[T any](ctx context.Context, log *slog.Logger, what string, f func() (T, error)) (T, error) {
	var b backoff
	for {
		v, err := f()
		if err == nil {
			return v, nil
		}
		if Permanent(err) {
			return v, err
		}
		pause := b.next()
		log.Warn(what, "err", err, "again in", pause)
		select {
		case <-ctx.Done():
			return v, ctx.Err()
		case <-time.After(pause):
		}
	}
}

// machineFacts adds what the machine says of itself to the facts a
// fan-out filters on (--where kernel=6.1.0-56-cloud-amd64, release=...),
// without overriding the platform's: the kernel, the architecture, the
// cpus, and the release unit runs (once: it changes only with a reboot).
func machineFacts(ctx context.Context, facts map[string]string, socket string) {
	add := func(k, v string) {
		if _, ok := facts[k]; !ok && v != "" {
			facts[k] = v
		}
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		add("kernel", unix.ByteSliceToString(u.Release[:]))
	}
	add("arch", runtime.GOARCH)
	add("cpus", strconv.Itoa(runtime.NumCPU()))
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_ = api.Call(cctx, socket, api.Request{Cmd: "status"}, func(b json.RawMessage) error {
		var st api.StatusReply
		if json.Unmarshal(b, &st) == nil {
			add("release", st.Release)
		}
		return nil
	})
}

// readFacts are unit's platform facts (a NoCloud seed's meta-data, IMDS);
// a file that cannot be read leaves none, said in the log.
func readFacts(log *slog.Logger, path string) map[string]string {
	m, err := platform.ReadFacts(path)
	if err != nil {
		log.Warn("platform facts", "err", err)
		return map[string]string{}
	}
	return m
}

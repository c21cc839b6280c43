package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
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
	"github.com/unit-os/unit/cm"
	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/fleet"
)

func agent(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("agent", flag.ExitOnError)
	url := fs.String("url", "", "the broker, tls://HOST:4222 (default: the platform fact fleet_url)")
	node := fs.String("node", "", "this node's id (default: the platform's instance_id, else the hostname)")
	var groups listFlag
	fs.Var(&groups, "group", "a group this node is in (repeatable)")
	from := fs.String("groups-from", "", "platform facts whose values are groups, e.g. role,dc")
	cfgDir := fs.String("config", "/etc/unit", "unit's config directory")
	state := fs.String("state", config.FleetState, "the node's key, credentials and last good layers")
	socket := fs.String("socket", env("UNIT_SOCKET", api.DefaultSocket), "unit's control socket ($UNIT_SOCKET, which unit sets for its services)")
	unitState := fs.String("unit-state", env("UNIT_STATE", cm.StateDir), "unit's state directory, where its platform facts are ($UNIT_STATE, which unit sets for its services)")
	tokenFile := fs.String("token-file", cm.FleetTokenPath, "the provisioning token (first boot only; PID 1 leaves a seed's fleet_token there, 0600)")
	imds := fs.String("imds", "auto", "read EC2-style IMDSv2 metadata into the platform facts: auto (when no seed gave facts), on, off")
	parseArgs(fs, args)

	factsPath := cm.PlatformFactsPath(*unitState)
	facts := readFacts(log, factsPath)
	if *imds == "on" || *imds == "auto" && facts["seed"] == "" {
		ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
		got, err := fleet.IMDS(ictx, fleet.IMDSBase, fleet.IMDSClient())
		cancel()
		switch {
		case err != nil && *imds == "on":
			return fmt.Errorf("imds: %w", err)
		case err != nil:
			log.Info("no IMDS metadata", "err", err)
		default:
			if _, err := fleet.MergePlatformFacts(factsPath, got); err != nil {
				return fmt.Errorf("imds: %w", err)
			}
			facts = readFacts(log, factsPath)
		}
	}
	machineFacts(ctx, facts, *socket)
	if *node == "" {
		if *node = facts["instance_id"]; *node == "" {
			*node, _ = os.Hostname()
		}
	}
	if !fleet.ValidNode(*node) {
		return fmt.Errorf("node id %q: letters, digits, - and _ only (--node)", *node)
	}
	for _, f := range strings.Split(*from, ",") {
		if f = strings.TrimSpace(f); f != "" && facts[f] != "" {
			groups = append(groups, facts[f])
		}
	}
	if *url == "" {
		*url = facts["fleet_url"]
	}
	if *url == "" {
		return errors.New("no broker: [fleet] url, --url or the platform fact fleet_url")
	}
	if err := os.MkdirAll(*state, 0o700); err != nil {
		return err
	}

	reporter := &fleet.Reporter{Node: *node, Facts: facts, Socket: *socket, Log: log}
	reconnected := make(chan struct{}, 1)
	a := &fleet.Agent{ConfigDir: *cfgDir, CacheDir: filepath.Join(*state, "layers"), Node: *node, Groups: groups, Log: log,
		Applied: reporter.Applied, Reconnected: reconnected, Jitter: 2 * time.Second}
	// The last good layers first: a node whose broker is down converges
	// to them now, not when the broker is back.
	a.Restore()

	// The connection's pings are the one timer of ours: a broker that
	// died without closing the connection is noticed within a minute
	// (then the watches are made again on another server).
	opts := []nats.Option{nats.Name("unit-fleet agent " + *node), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true),
		nats.PingInterval(20 * time.Second), nats.MaxPingsOutstanding(3),
		nats.ReconnectWait(time.Second), nats.ReconnectJitter(time.Second, 2*time.Second),
		nats.ReconnectHandler(func(*nats.Conn) {
			select {
			case reconnected <- struct{}{}:
			default:
			}
			reporter.Poke()
		})}
	// Requests stamped before now may have been taken by this agent's
	// previous run, whose seen ids are gone: they are refused.
	started := time.Now()
	var verifier *fleet.Verifier
	var signer *fleet.Signer
	creds, err := enrol(ctx, log, *url, *tokenFile, *state, *node, groups)
	if err != nil {
		return err
	}
	if creds != nil {
		opts = append(opts, creds.Options(*node)...)
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
		opts = append(opts, nats.CustomInboxPrefix(fleet.InboxPrefix(*node)))
	}
	nc, err := nats.Connect(*url, opts...)
	if err != nil {
		return fmt.Errorf("connect %s: %w", *url, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	// NodeKV: a node may not look the buckets' streams up (that would
	// list every key); it watches its keys and puts its status without.
	a.OpenKV = func(context.Context) (jetstream.KeyValue, error) { return fleet.NodeKV(nc, fleet.Bucket) }
	log.Info("following", "url", *url, "node", *node, "keys", a.Keys())

	r := &fleet.Responder{NC: nc, Node: *node, Facts: facts, Socket: *socket, Verifier: verifier, Signer: signer, Resource: fleet.ApplyResource,
		Fetch: func(ctx context.Context, name string) (string, error) {
			obs, err := js.ObjectStore(ctx, fleet.ContentBucket)
			if err != nil {
				return "", fmt.Errorf("content store: %w", err)
			}
			// On the data partition, beside the layers: a bundle is tens
			// of MB, more than /run should hold.
			return fleet.FetchContent(ctx, obs, name, filepath.Join(*state, "content"))
		}}
	go func() {
		if err := r.Serve(ctx); err != nil {
			log.Error("fan-out requests", "err", err)
		}
	}()
	go func() {
		kv, err := retry(ctx, log, "status bucket", func() (jetstream.KeyValue, error) { return fleet.NodeKV(nc, fleet.StatusBucket) })
		if err == nil {
			reporter.KV = kv
			reporter.Run(ctx)
		}
	}()
	return a.Run(ctx)
}

// enrol returns the node's credentials: those it has (if they still fit
// its id and groups), or new ones for its provisioning token; nil with
// neither (a development broker without authentication).
func enrol(ctx context.Context, log *slog.Logger, url, tokenFile, state, node string, groups []string) (*fleet.Creds, error) {
	tok, err := os.ReadFile(tokenFile)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if len(tok) == 0 {
		if _, err := fleet.LoadCreds(state); err != nil {
			return nil, nil
		}
	}
	return retry(ctx, log, "enrol", func() (*fleet.Creds, error) {
		return fleet.Enroll(ctx, url, strings.TrimSpace(string(tok)), node, groups, state)
	})
}

// retry calls f until it works or ctx ends, with a growing pause (the
// broker may not be up yet; a failure's backoff, not a poll).
func retry[T any](ctx context.Context, log *slog.Logger, what string, f func() (T, error)) (T, error) {
	pause := time.Second
	for {
		v, err := f()
		if err == nil {
			return v, nil
		}
		if fleet.Permanent(err) {
			return v, err
		}
		log.Warn(what, "err", err, "again in", pause)
		select {
		case <-ctx.Done():
			return v, ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 30*time.Second)
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
	m, err := cm.ReadPlatformFacts(path)
	if err != nil {
		log.Warn("platform facts", "err", err)
		return map[string]string{}
	}
	return m
}

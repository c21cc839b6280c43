// Command agentproc is a stand-in for `unit-fleet agent` that bench/fleet
// measures when cmd/unit-fleet does not build (it is being rewritten):
// the same parts wired the same way (fleet.Agent with its cache of last
// good layers, fleet.Responder, fleet.Reporter, one connection that
// re-makes the watches after a reconnect), without enrolment and
// credentials, which a loopback benchmark broker does not ask for.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/fleet"
)

type listFlag []string

func (l *listFlag) String() string     { return fmt.Sprint(*l) }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	if len(os.Args) < 2 || os.Args[1] != "agent" {
		fmt.Fprintln(os.Stderr, "usage: agentproc agent --url URL --node ID [--group G] --config DIR --state DIR --socket PATH")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("agent", flag.ExitOnError)
	url := fs.String("url", "", "the broker")
	node := fs.String("node", "", "this node's id")
	var groups listFlag
	fs.Var(&groups, "group", "a group this node is in (repeatable)")
	cfgDir := fs.String("config", "/etc/unit", "unit's config directory")
	state := fs.String("state", "/var/lib/unit-fleet", "the last good layers")
	socket := fs.String("socket", "/run/unit/unit.sock", "unit's control socket")
	fs.Parse(os.Args[2:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := agent(ctx, log, *url, *node, groups, *cfgDir, *state, *socket); err != nil {
		log.Error("agent", "err", err)
		os.Exit(1)
	}
}

// agent is cmd/unit-fleet/agent.go's wiring, for a node without
// credentials.
func agent(ctx context.Context, log *slog.Logger, url, node string, groups []string, cfgDir, state, socket string) error {
	facts := map[string]string{}
	reporter := &fleet.Reporter{Node: node, Facts: facts, Socket: socket, Log: log}
	reconnected := make(chan struct{}, 1)
	a := &fleet.Agent{ConfigDir: cfgDir, CacheDir: filepath.Join(state, "layers"), Node: node, Groups: groups, Log: log,
		Applied: reporter.Applied, Reconnected: reconnected, Jitter: 2 * time.Second}
	a.Restore()
	nc, err := nats.Connect(url, nats.Name("unit-fleet agent "+node), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true),
		nats.PingInterval(20*time.Second), nats.MaxPingsOutstanding(3), nats.ReconnectWait(time.Second), nats.ReconnectJitter(time.Second, 2*time.Second),
		nats.CustomInboxPrefix(fleet.InboxPrefix(node)),
		nats.ReconnectHandler(func(*nats.Conn) {
			select {
			case reconnected <- struct{}{}:
			default:
			}
			reporter.Poke()
		}))
	if err != nil {
		return fmt.Errorf("connect %s: %w", url, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	a.OpenKV = func(ctx context.Context) (jetstream.KeyValue, error) { return js.KeyValue(ctx, fleet.Bucket) }
	r := &fleet.Responder{NC: nc, Node: node, Facts: facts, Socket: socket, Resource: fleet.ApplyResource}
	go func() {
		if err := r.Serve(ctx); err != nil {
			log.Error("fan-out requests", "err", err)
		}
	}()
	go func() {
		kv, err := js.KeyValue(ctx, fleet.StatusBucket)
		if err != nil {
			log.Error("status bucket", "err", err)
			return
		}
		reporter.KV = kv
		reporter.Run(ctx)
	}()
	return a.Run(ctx)
}

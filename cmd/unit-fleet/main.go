// Command unit-fleet is the fleet side of unit on NATS JetStream (its own
// program: NATS's client, TLS and server are kept out of unit, which is
// every image's PID 1). Today:
//
//	unit-fleet serve [--listen 127.0.0.1:4222] [--store DIR]
//	unit-fleet agent --url nats://HOST:4222 [--node ID] [--group G]... [--groups-from FACT,...] [--config /etc/unit]
//	unit-fleet run --url nats://HOST:4222 [--where K=V]... [--window 300ms] [--json] CMD
//
// serve runs an embedded nats-server with JetStream stored on disk, for a
// small fleet. agent follows this node's layers of desired state (KV
// bucket unit-desired: all, group.G, node.ID) into CONFIG/fleet, where
// unit takes them through its validate-then-converge path, and answers
// fan-out requests through the control socket. run asks every node whose
// facts match (read-only commands until requests are signed).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/cm"
	"github.com/unit-os/unit/fleet"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: unit-fleet serve|agent [flags] (unit-fleet CMD -h)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(ctx, log, os.Args[2:])
	case "agent":
		err = agent(ctx, log, os.Args[2:])
	case "run":
		err = run(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: want serve or agent", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "unit-fleet:", err)
		os.Exit(1)
	}
}

func serve(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:4222", "HOST:PORT for clients")
	store := fs.String("store", "/var/lib/unit-fleet", "JetStream's store")
	fs.Parse(args)
	host, port, err := net.SplitHostPort(*listen)
	if err != nil {
		return err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return err
	}
	s, err := server.NewServer(&server.Options{Host: host, Port: p, JetStream: true, StoreDir: *store, NoSigs: true})
	if err != nil {
		return err
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		return errors.New("nats-server did not start")
	}
	log.Info("serving", "url", s.ClientURL(), "store", *store)
	<-ctx.Done()
	s.Shutdown()
	s.WaitForShutdown()
	return nil
}

func agent(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("agent", flag.ExitOnError)
	url := fs.String("url", "", "the broker, nats://HOST:4222")
	node := fs.String("node", "", "this node's id (default: the platform's instance_id, else the hostname)")
	var groups listFlag
	fs.Var(&groups, "group", "a group this node is in (repeatable)")
	from := fs.String("groups-from", "", "platform facts whose values are groups, e.g. role,dc")
	cfgDir := fs.String("config", "/etc/unit", "unit's config directory")
	socket := fs.String("socket", api.DefaultSocket, "unit's control socket")
	fs.Parse(args)
	if *url == "" {
		return errors.New("agent: --url is required")
	}
	facts := platformFacts()
	if *node == "" {
		if *node = facts["instance_id"]; *node == "" {
			*node, _ = os.Hostname()
		}
	}
	for _, f := range strings.Split(*from, ",") {
		if v := facts[strings.TrimSpace(f)]; f != "" && v != "" {
			groups = append(groups, v)
		}
	}
	nc, err := nats.Connect(*url, nats.Name("unit-fleet agent "+*node), nats.MaxReconnects(-1))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: fleet.Bucket, History: 5})
	if err != nil {
		return fmt.Errorf("agent: bucket %s: %w", fleet.Bucket, err)
	}
	a := &fleet.Agent{KV: kv, ConfigDir: *cfgDir, Node: *node, Groups: groups, Log: log}
	log.Info("following", "url", *url, "keys", a.Keys())
	r := &fleet.Responder{NC: nc, Node: *node, Facts: facts, Socket: *socket}
	go func() {
		if err := r.Serve(ctx); err != nil {
			log.Error("fan-out requests", "err", err)
		}
	}()
	return a.Run(ctx)
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	url := fs.String("url", "", "the broker, nats://HOST:4222")
	var where listFlag
	fs.Var(&where, "where", "K=V: only nodes whose fact K is V (repeatable; node=ID for one node)")
	window := fs.Duration("window", 300*time.Millisecond, "stop waiting this long after the last reply")
	max := fs.Duration("max", 10*time.Second, "stop waiting after this long in any case")
	jsonOut := fs.Bool("json", false, "the replies as JSON")
	fs.Parse(args)
	if *url == "" || fs.NArg() != 1 {
		return errors.New("usage: unit-fleet run --url nats://HOST:4222 [--where K=V]... CMD")
	}
	req := fleet.Request{Cmd: fs.Arg(0), Where: map[string]string{}}
	for _, w := range where {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			return fmt.Errorf("--where %q: want K=V", w)
		}
		req.Where[k] = v
	}
	nc, err := nats.Connect(*url)
	if err != nil {
		return err
	}
	defer nc.Close()
	res, err := fleet.Ask(ctx, nc, req, *window, *max, nil, nil)
	if err != nil {
		return err
	}
	if *jsonOut {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	failed := 0
	for _, r := range res.Replies {
		if r.Error != "" {
			failed++
			fmt.Printf("%s\terror: %s\n", r.Node, r.Error)
			continue
		}
		for _, d := range r.Data {
			fmt.Printf("%s\t%s\n", r.Node, d)
		}
	}
	fmt.Printf("%d nodes in %d ms, %d failed\n", len(res.Replies), res.Took.Milliseconds(), failed)
	if failed > 0 {
		return errors.New("some nodes failed")
	}
	return nil
}

// platformFacts are unit's platform facts (a NoCloud seed's meta-data).
func platformFacts() map[string]string {
	m := map[string]string{}
	if b, err := os.ReadFile(cm.PlatformFactsPath); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	return m
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

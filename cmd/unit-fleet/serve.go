package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/fleet"
)

// serve runs the broker for a small fleet: an embedded nats-server with
// JetStream stored on disk, security on (TLS from the fleet's own CA,
// decentralised JWT/nkey auth from the authority kept in the store), the
// fleet's buckets, and the enrolment service that trades provisioning
// tokens for node credentials. A big fleet runs a NATS cluster instead,
// configured with the same operator and account (docs/fleet.md).
func serve(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	listen := fs.String("listen", "0.0.0.0:4222", "HOST:PORT for nodes and operators")
	store := fs.String("store", defaultStore, "the authority's keys and JetStream's store")
	var names listFlag
	fs.Var(&names, "name", "a host name or address nodes reach this broker by, for its TLS certificate (repeatable; localhost and loopback are always in)")
	parseArgs(fs, args)
	host, port, err := net.SplitHostPort(*listen)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", *listen, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", *listen, err)
	}
	a, err := fleet.OpenAuthority(*store)
	if err != nil {
		return err
	}
	a.Log = log
	o := &server.Options{Host: host, Port: p, StoreDir: filepath.Join(*store, "jetstream"), NoSigs: true, ServerName: "unit-fleet"}
	if err := a.Configure(o, names); err != nil {
		return err
	}
	s, err := server.NewServer(o)
	if err != nil {
		return err
	}
	go s.Start()
	defer func() {
		s.Shutdown()
		s.WaitForShutdown()
	}()
	if !s.ReadyForConnections(30 * time.Second) {
		return errors.New("nats-server did not start")
	}
	url := s.ClientURL()
	admin, err := a.AdminCreds()
	if err != nil {
		return err
	}
	nc, err := nats.Connect(url, nats.UserCredentials(admin), nats.RootCAs(a.CAPath()), nats.Name("unit-fleet serve"))
	if err != nil {
		return fmt.Errorf("connect as admin: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	if err := fleet.EnsureBuckets(ctx, js); err != nil {
		return err
	}
	sopts, err := a.ServiceOptions()
	if err != nil {
		return err
	}
	enc, err := nats.Connect(url, sopts...)
	if err != nil {
		return fmt.Errorf("connect the enrolment service: %w", err)
	}
	defer enc.Close()
	log.Info("serving", "url", url, "store", *store, "admin creds", admin, "ca", a.CAPath(),
		"tokens", "unit-fleet token --group G")
	return a.ServeEnroll(ctx, enc)
}

// token prints a provisioning token for a node's seed (meta-data's
// fleet_token): what lets one machine enrol, once, into the groups given.
func token(_ context.Context, _ *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("token", flag.ExitOnError)
	store := fs.String("store", defaultStore, "the authority (unit-fleet serve's store)")
	var groups listFlag
	fs.Var(&groups, "group", "a group the node may join (repeatable; its facts choose among them)")
	uses := fs.Int("uses", 1, "how many nodes may enrol with it")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long it is valid")
	parseArgs(fs, args)
	a, err := fleet.OpenAuthority(*store)
	if err != nil {
		return err
	}
	t, err := a.Token(groups, *uses, *ttl)
	if err != nil {
		return err
	}
	fmt.Println(t)
	return nil
}

// user prints an operator's credentials (a NATS creds file).
func user(_ context.Context, _ *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("user", flag.ExitOnError)
	store := fs.String("store", defaultStore, "the authority (unit-fleet serve's store)")
	role := fs.String("role", "", "admin (may change nodes) or reader (may look)")
	ttl := fs.Duration("ttl", 0, "how long the credentials are valid (0: until the account's key changes)")
	pos := parseArgs(fs, args)
	if len(pos) != 1 {
		return errors.New("usage: unit-fleet user --role admin|reader NAME > NAME.creds")
	}
	a, err := fleet.OpenAuthority(*store)
	if err != nil {
		return err
	}
	creds, err := a.User(pos[0], *role, *ttl)
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(creds)
	return err
}

// Command unit-fleet-server is the fleet's broker and authority, on the
// broker's machine only (`unit fleet serve|token|user` runs it). It is
// its own program because the embedded nats-server weighs 10 MB that no
// node's agent (unit-fleet) needs (docs/fleet.md).
//
//	unit-fleet-server serve [--listen 0.0.0.0:4222] [--store DIR] [--name HOST]...
//	unit-fleet-server token [--store DIR] [--group G]... [--uses N] [--ttl 24h]
//	unit-fleet-server user  [--store DIR] --role admin|reader NAME > NAME.creds
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/unit-os/unit/fleet"
	"github.com/unit-os/unit/fleet/authority"
	"github.com/unit-os/unit/fleet/broker"
)

const usage = `usage: unit-fleet-server COMMAND [flags]

  serve [--listen HOST:PORT] [--store DIR] [--name HOST]...   run the broker (embedded NATS with JetStream, TLS and JWT auth)
  token [--store DIR] [--group G]... [--uses N] [--ttl D]     a provisioning token for a node's seed (fleet_token)
  user  [--store DIR] --role admin|reader NAME                credentials for an operator (admin changes, reader looks)
`

func main() {
	if len(os.Args) < 2 {
		fmt.Print(usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(ctx, log, os.Args[2:])
	case "token":
		err = token(os.Args[2:])
	case "user":
		err = user(os.Args[2:])
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "unit-fleet-server: unknown command %q\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "unit-fleet-server "+os.Args[1]+":", err)
		os.Exit(1)
	}
}

// repeated is a flag that may be given more than once.
func repeated(fs *flag.FlagSet, name, usage string) *[]string {
	var v []string
	fs.Func(name, usage, func(s string) error { v = append(v, s); return nil })
	return &v
}

// serve runs the broker for a small fleet (a big one runs a NATS
// cluster configured with the same operator and account).
func serve(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	listen := fs.String("listen", "0.0.0.0:4222", "HOST:PORT for nodes and operators")
	store := fs.String("store", fleet.ServerStore, "the authority's keys and JetStream's store")
	names := repeated(fs, "name", "a host name or address nodes reach this broker by, for its TLS certificate (repeatable; localhost and loopback are always in)")
	fs.Parse(args)
	host, port, err := net.SplitHostPort(*listen)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", *listen, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", *listen, err)
	}
	return broker.Serve(ctx, log, host, p, *store, *names, nil)
}

// token prints a provisioning token for a node's seed (meta-data's
// fleet_token): what lets one machine enrol, once, into the groups given.
func token(args []string) error {
	fs := flag.NewFlagSet("token", flag.ExitOnError)
	store := fs.String("store", fleet.ServerStore, "the authority (serve's store)")
	groups := repeated(fs, "group", "a group the node may join (repeatable; its facts choose among them)")
	uses := fs.Int("uses", 1, "how many nodes may enrol with it")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long it is valid")
	fs.Parse(args)
	a, err := authority.Open(*store)
	if err != nil {
		return err
	}
	t, err := a.Token(*groups, *uses, *ttl)
	if err != nil {
		return err
	}
	fmt.Println(t)
	return nil
}

// user prints an operator's credentials (a NATS creds file).
func user(args []string) error {
	fs := flag.NewFlagSet("user", flag.ExitOnError)
	store := fs.String("store", fleet.ServerStore, "the authority (serve's store)")
	role := fs.String("role", "", "admin (may change nodes) or reader (may look)")
	ttl := fs.Duration("ttl", 0, "how long the credentials are valid (0: until the account's key changes)")
	fs.Parse(args)
	if fs.NArg() != 1 {
		return errors.New("usage: unit-fleet-server user --role admin|reader NAME > NAME.creds")
	}
	a, err := authority.Open(*store)
	if err != nil {
		return err
	}
	creds, err := a.User(fs.Arg(0), *role, *ttl)
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(creds)
	return err
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/fleet"
)

// operator is how an operator's command reaches the fleet.
type operator struct {
	url, creds, ca *string
	where          listFlag
	window, max    *time.Duration
	jsonOut        *bool
}

// operatorFlags are the flags of every operator's command; max is how
// long an expected node that has not answered is waited for.
func operatorFlags(fs *flag.FlagSet, max time.Duration) *operator {
	o := &operator{
		url:     fs.String("url", env("UNIT_FLEET_URL", "tls://127.0.0.1:4222"), "the broker ($UNIT_FLEET_URL)"),
		creds:   fs.String("creds", env("UNIT_FLEET_CREDS", filepath.Join(fleet.ServerStore, "admin.creds")), "your credentials ($UNIT_FLEET_CREDS; unit-fleet user makes them)"),
		ca:      fs.String("ca", os.Getenv("UNIT_FLEET_CA"), "the broker's CA ($UNIT_FLEET_CA; default: ca.pem beside the creds)"),
		window:  fs.Duration("window", 300*time.Millisecond, "once every expected node answered (or none is expected), stop waiting this long after the last reply"),
		max:     fs.Duration("max", max, "stop waiting for expected nodes that did not answer after this long"),
		jsonOut: fs.Bool("json", false, "JSON output"),
	}
	fs.Var(&o.where, "where", "K=V: only nodes whose fact K is V (repeatable; node=ID for one node)")
	return o
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// filter is the --where conditions.
func (o *operator) filter() (map[string]string, error) {
	w := map[string]string{}
	for _, c := range o.where {
		k, v, ok := strings.Cut(c, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--where %q: want K=V", c)
		}
		w[k] = v
	}
	return w, nil
}

// connect reaches the broker with the operator's credentials and CA (a
// plain nats:// URL on loopback may go without: a development broker).
func (o *operator) connect() (*nats.Conn, *fleet.Signer, error) {
	opts := []nats.Option{nats.Name("unit-fleet operator")}
	var sg *fleet.Signer
	if _, err := os.Stat(*o.creds); err == nil {
		s, err := fleet.LoadSigner(*o.creds)
		if err != nil {
			return nil, nil, err
		}
		sg = s
		ca := *o.ca
		if ca == "" {
			ca = filepath.Join(filepath.Dir(*o.creds), "ca.pem")
		}
		opts = append(opts, fleet.OperatorOptions(*o.creds, ca)...)
	} else if !strings.HasPrefix(*o.url, "nats://") {
		return nil, nil, fmt.Errorf("credentials %s: %w (unit-fleet user makes them; --creds or $UNIT_FLEET_CREDS)", *o.creds, err)
	}
	nc, err := nats.Connect(*o.url, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("connect %s: %w", *o.url, err)
	}
	return nc, sg, nil
}

// bucket connects and opens a KV bucket; closeConn ends the connection.
func (o *operator) bucket(ctx context.Context, name string) (kv jetstream.KeyValue, closeConn func(), err error) {
	nc, _, err := o.connect()
	if err != nil {
		return nil, nil, err
	}
	if kv, err = bucket(ctx, nc, name); err != nil {
		nc.Close()
		return nil, nil, err
	}
	return kv, nc.Close, nil
}

// bucket opens a KV bucket.
func bucket(ctx context.Context, nc *nats.Conn, name string) (jetstream.KeyValue, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	kv, err := js.KeyValue(ctx, name)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("bucket %s: not found (is this the fleet's broker? unit-fleet serve makes it)", name)
	}
	return kv, err
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// parseArgs parses flags anywhere among the arguments (`disable web-2
// --reason x` as well as `disable --reason x web-2`) and returns the
// others.
func parseArgs(fs *flag.FlagSet, args []string) []string {
	var pos []string
	for {
		fs.Parse(args)
		if fs.NArg() == 0 {
			return pos
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/fleet"
	"github.com/unit-os/unit/fleet/operator"
)

// operatorFlags is how an operator's command reaches the fleet.
type operatorFlags struct {
	url, creds, ca *string
	where          listFlag
	window, max    *time.Duration
	jsonOut        *bool
}

// newOperatorFlags are the flags of every operator's command; max is how
// long an expected node that has not answered is waited for.
func newOperatorFlags(fs *flag.FlagSet, max time.Duration) *operatorFlags {
	o := &operatorFlags{
		url:     fs.String("url", env("UNIT_FLEET_URL", "tls://127.0.0.1:4222"), "the broker ($UNIT_FLEET_URL)"),
		window:  fs.Duration("window", 300*time.Millisecond, "once every expected node answered (or none is expected), stop waiting this long after the last reply"),
		max:     fs.Duration("max", max, "stop waiting for expected nodes that did not answer after this long"),
		jsonOut: fs.Bool("json", false, "JSON output"),
	}
	o.creds, o.ca = credsFlags(fs)
	fs.Var(&o.where, "where", "K=V: only nodes whose fact K is V (repeatable; node=ID for one node)")
	return o
}

// credsFlags are how an operator proves who it is: --creds and --ca.
func credsFlags(fs *flag.FlagSet) (creds, ca *string) {
	creds = fs.String("creds", env("UNIT_FLEET_CREDS", filepath.Join(fleet.ServerStore, "admin.creds")), "your credentials ($UNIT_FLEET_CREDS; unit-fleet user makes them)")
	ca = fs.String("ca", os.Getenv("UNIT_FLEET_CA"), "the broker's CA ($UNIT_FLEET_CA; default: ca.pem beside the creds)")
	return creds, ca
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// filter is the --where conditions.
func (o *operatorFlags) filter() (map[string]string, error) { return operator.Filter(o.where) }

// connect reaches the broker with the operator's credentials and CA.
func (o *operatorFlags) connect() (*nats.Conn, *fleet.Signer, error) {
	return operator.Connect(*o.url, *o.creds, *o.ca)
}

// bucket connects and opens a KV bucket; closeConn ends the connection.
func (o *operatorFlags) bucket(ctx context.Context, name string) (kv jetstream.KeyValue, closeConn func(), err error) {
	nc, _, err := o.connect()
	if err != nil {
		return nil, nil, err
	}
	if kv, err = operator.Bucket(ctx, nc, name); err != nil {
		nc.Close()
		return nil, nil, err
	}
	return kv, nc.Close, nil
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

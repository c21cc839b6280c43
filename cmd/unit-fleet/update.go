package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/fleet"
	"github.com/unit-os/unit/fleet/operator"
	"github.com/unit-os/unit/update"
)

// updateNodes puts an update bundle (unit image build --format update)
// into the content store under its hash, once, and asks every matching
// node to install it: each fetches it by that hash, checks its bytes
// against the name, and hands it to unit update pinned to the bundle's
// id, so a bundle is verified twice and trusted nowhere on the way.
func updateNodes(ctx context.Context, _ *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("update", flag.ExitOnError)
	o := newOperatorFlags(fs, 30*time.Minute)
	noReboot := fs.Bool("no-reboot", false, "install, and leave the reboot into it for later")
	pos := parseArgs(fs, args)
	if len(pos) != 1 {
		return errors.New("usage: unit-fleet update [--where K=V]... [--no-reboot] BUNDLE (unit image build --format update)")
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	r, err := update.NewReader(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	nc, _, err := o.connect()
	if err != nil {
		return err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return err
	}
	obs, err := js.ObjectStore(ctx, fleet.ContentBucket)
	if err != nil {
		nc.Close()
		return fmt.Errorf("content store %s: %w", fleet.ContentBucket, err)
	}
	name, err := operator.PutContent(ctx, obs, pos[0])
	nc.Close()
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bundle %s (id %s) is %s\n", pos[0], r.ID(), name)
	return ask(ctx, o, fleet.Request{Cmd: "update", Content: name, SHA256: r.ID(), NoReboot: *noReboot}, printReply("update"))
}

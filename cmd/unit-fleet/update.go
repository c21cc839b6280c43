package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/unit-os/unit/fleet/operator"
)

// updateNodes puts an update bundle into the content store and asks
// every matching node to install it (operator.Bundle).
func updateNodes(ctx context.Context, _ *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("update", flag.ExitOnError)
	o := newOperatorFlags(fs, 30*time.Minute)
	noReboot := fs.Bool("no-reboot", false, "install, and leave the reboot into it for later")
	pos := parseArgs(fs, args)
	if len(pos) != 1 {
		return errors.New("usage: unit-fleet update [--where K=V]... [--no-reboot] BUNDLE (unit image build --format update)")
	}
	b, err := operator.OpenBundle(pos[0])
	if err != nil {
		return err
	}
	nc, _, err := o.connect()
	if err != nil {
		return err
	}
	err = b.Put(ctx, nc)
	nc.Close()
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bundle %s (id %s) is %s\n", b.Path, b.ID, b.Content)
	return ask(ctx, o, b.Request(*noReboot), printReply("update"))
}

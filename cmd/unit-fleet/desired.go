package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/unit-os/unit/fleet"
	"github.com/unit-os/unit/fleet/operator"
)

// Desired state: the layers in the KV bucket, and the maintenance marks.

func put(ctx context.Context, _ *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("put", flag.ExitOnError)
	o := newOperatorFlags(fs, time.Minute)
	force := fs.Bool("force", false, "put a layer that does not load on its own (one that refers to resources of the nodes' local config)")
	pos := parseArgs(fs, args)
	if len(pos) != 2 {
		return errors.New("usage: unit-fleet put KEY FILE (KEY: all, group.G, node.ID; FILE - for stdin)")
	}
	key, file := pos[0], pos[1]
	if err := operator.LayerKey(key); err != nil {
		return err
	}
	b, err := operator.ReadLayer(file, os.Stdin)
	if err != nil {
		return err
	}
	if file != "-" && !*force {
		if err := operator.CheckLayer(file); err != nil {
			return fmt.Errorf("%w\n(nothing was put; --force puts a layer that only loads with the nodes' own config)", err)
		}
	}
	kv, closeConn, err := o.bucket(ctx, fleet.Bucket)
	if err != nil {
		return err
	}
	defer closeConn()
	rev, err := kv.Put(ctx, key, b)
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	fmt.Printf("%s: revision %d\n", key, rev)
	return nil
}

func get(ctx context.Context, _ *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("get", flag.ExitOnError)
	o := newOperatorFlags(fs, time.Minute)
	pos := parseArgs(fs, args)
	if len(pos) != 1 {
		return errors.New("usage: unit-fleet get KEY")
	}
	kv, closeConn, err := o.bucket(ctx, fleet.Bucket)
	if err != nil {
		return err
	}
	defer closeConn()
	e, err := kv.Get(ctx, pos[0])
	if err != nil {
		return fmt.Errorf("get %s: %w", pos[0], err)
	}
	fmt.Fprintf(os.Stderr, "# %s revision %d, %s\n", e.Key(), e.Revision(), e.Created().Format(time.RFC3339))
	_, err = os.Stdout.Write(e.Value())
	return err
}

func rm(ctx context.Context, _ *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("rm", flag.ExitOnError)
	o := newOperatorFlags(fs, time.Minute)
	pos := parseArgs(fs, args)
	if len(pos) != 1 {
		return errors.New("usage: unit-fleet rm KEY")
	}
	if err := operator.LayerKey(pos[0]); err != nil {
		return err
	}
	kv, closeConn, err := o.bucket(ctx, fleet.Bucket)
	if err != nil {
		return err
	}
	defer closeConn()
	return kv.Delete(ctx, pos[0])
}

func disable(ctx context.Context, _ *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("disable", flag.ExitOnError)
	o := newOperatorFlags(fs, time.Minute)
	reason := fs.String("reason", "", "why (shown by check)")
	pos := parseArgs(fs, args)
	if len(pos) != 1 || !fleet.ValidNode(pos[0]) {
		return errors.New("usage: unit-fleet disable NODE [--reason R]")
	}
	kv, closeConn, err := o.bucket(ctx, fleet.StatusBucket)
	if err != nil {
		return err
	}
	defer closeConn()
	b, _ := json.Marshal(fleet.Maintenance{Reason: strings.TrimSpace(*reason), Time: time.Now().UTC()})
	_, err = kv.Put(ctx, fleet.MaintenanceKey(pos[0]), b)
	return err
}

func enable(ctx context.Context, _ *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("enable", flag.ExitOnError)
	o := newOperatorFlags(fs, time.Minute)
	pos := parseArgs(fs, args)
	if len(pos) != 1 || !fleet.ValidNode(pos[0]) {
		return errors.New("usage: unit-fleet enable NODE")
	}
	kv, closeConn, err := o.bucket(ctx, fleet.StatusBucket)
	if err != nil {
		return err
	}
	defer closeConn()
	return kv.Delete(ctx, fleet.MaintenanceKey(pos[0]))
}

//go:build builders

package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/image"
)

// cmdImageTest is `unit image test`: build the image, boot it in qemu,
// wait for its services, ask its [check.NAME] questions in the guest,
// print the table, power it off; exit 1 when a check fails, for CI.
func cmdImageTest(ctx context.Context, log *slog.Logger, args []string) error {
	fs := newFlags("image test")
	out := fs.String("o", "", "output directory (default: a temporary one, removed after)")
	cache := fs.String("cache", "", "download cache (default: $UNIT_CACHE or ~/.cache/unit)")
	format := fs.String("format", image.FormatInitramfs, "initramfs or disk")
	mem := fs.String("m", "1G", "guest memory")
	timeout := fs.Duration("timeout", 10*time.Minute, "for the whole boot and the checks")
	jsonOut := fs.Bool("json", false, "JSON output")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || (*format != image.FormatInitramfs && *format != image.FormatDisk) {
		return errUsage("image test")
	}
	cfg, err := image.LoadDescription(func(l config.Loader) (*config.Config, error) { return l.LoadFiles(pos[0]) })
	if err != nil {
		return err
	}
	if len(cfg.Checks) == 0 {
		return fmt.Errorf("%s has no [check.NAME] tables: nothing to test (docs/configuration.md, Checks)", pos[0])
	}
	dir := *out
	if dir == "" {
		if dir, err = os.MkdirTemp("", "unit-image-test-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own binary: %w", err)
	}
	initBin, err := imageInit(self)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if _, err := image.Build(ctx, image.Options{System: pos[0], Out: dir, Init: initBin, CacheDir: *cache, Format: *format, Log: log}); err != nil {
		return err
	}
	if err := api.EnsureMachineDir(dir); err != nil {
		return err
	}
	consolePath := filepath.Join(dir, "console.log")
	console, err := os.Create(consolePath)
	if err != nil {
		return err
	}
	defer console.Close()
	qctx, stopQemu := context.WithCancel(ctx)
	defer stopQemu()
	// The serial console's input: nobody types. A pipe (an *os.File, so
	// exec copies nothing and waits for no goroutine once qemu is gone)
	// whose write end stays open until the end, so qemu never reads EOF.
	stdin, stdinW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer stdin.Close()
	defer stdinW.Close()
	qemuDone := make(chan error, 1)
	go func() {
		qemuDone <- image.Run(qctx, dir, image.RunOptions{Memory: *mem, Format: *format, Control: api.MachineSocket(dir),
			Stdin: stdin, Stdout: console, Stderr: console})
	}()
	fmt.Fprintf(os.Stderr, "unit image test: booting %s (console: %s)\n", dir, consolePath)
	socket := api.MachinePrefix + dir
	if err := waitForDaemon(ctx, socket, qemuDone); err != nil {
		return fmt.Errorf("%w (console: %s)", err, consolePath)
	}
	wait := time.Until(deadlineOf(ctx)) / 2
	res, err := callChecks(ctx, socket, wait)
	if err != nil {
		return fmt.Errorf("checks: %w (console: %s)", err, consolePath)
	}
	if *jsonOut {
		err = printJSON(res)
	} else {
		err = printChecks(os.Stdout, res)
	}
	if err != nil {
		return err
	}
	powerOff(ctx, socket, qemuDone, stopQemu)
	return checksExit(res)
}

// waitForDaemon asks for the status until the guest's unit answers (the
// control port takes requests only once unit serves it), qemu ends, or
// ctx does.
func waitForDaemon(ctx context.Context, socket string, qemuDone <-chan error) error {
	for {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := callOne[api.StatusReply](actx, socket, api.Request{Cmd: "status"})
		answered := err == nil && actx.Err() == nil // Call ends quietly when its context does
		cancel()
		if answered {
			return nil
		}
		select {
		case qerr := <-qemuDone:
			return fmt.Errorf("the guest stopped before unit answered: %v", qerr)
		case <-ctx.Done():
			return fmt.Errorf("unit in the guest did not answer: %w", ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

// powerOff asks the guest to power off and waits for qemu; after a
// minute qemu is stopped.
func powerOff(ctx context.Context, socket string, qemuDone <-chan error, stop func()) {
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	api.Call(pctx, socket, api.Request{Cmd: "poweroff"}, nil)
	cancel()
	select {
	case <-qemuDone:
	case <-time.After(time.Minute):
		stop()
		<-qemuDone
	}
}

func deadlineOf(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(10 * time.Minute)
}

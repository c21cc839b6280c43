package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"unit/cm"
	"unit/config"
	"unit/pid1"
)

func cmdRun(args []string) error {
	fs := newFlags("run")
	dir := fs.String("config", "/etc/unit", "config directory")
	state := fs.String("state", "", "state directory (default: /run/unit, or $XDG_RUNTIME_DIR/unit when not root)")
	socket := fs.String("socket", os.Getenv("UNIT_SOCKET"), "control socket (default: STATE/unit.sock)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *state == "" {
		*state = "/run/unit"
		if os.Getuid() != 0 {
			if rt := os.Getenv("XDG_RUNTIME_DIR"); rt != "" {
				*state = filepath.Join(rt, "unit")
			}
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	return pid1.RunHost(pid1.Options{ConfigDir: *dir, StateDir: *state, Socket: *socket, Log: log})
}

func cmdCheck(args []string) error {
	fs := newFlags("check")
	dir := fs.String("config", "/etc/unit", "config directory")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(*dir)
	if err == nil {
		err = cm.Validate(cfg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitCode(1)
	}
	fmt.Printf("%s: ok (%d services, %d files)\n", *dir, len(cfg.Services), len(cfg.Files))
	return nil
}

func cmdApply(args []string) error {
	fs := newFlags("apply")
	dir := fs.String("config", "/etc/unit", "config directory (with --once)")
	once := fs.Bool("once", false, "converge standalone, without a running daemon, and exit")
	dry := fs.Bool("dry-run", false, "show what would change, change nothing")
	state := fs.String("state", "", "with --once: keep the report in STATE/reports (for `unit report`)")
	jsonOut := fs.Bool("json", false, "JSON output")
	socket := socketFlag(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	ctx := context.Background()
	var rep *cm.Report
	if *once {
		cfg, err := config.Load(*dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return exitCode(1)
		}
		log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		opts := []cm.Option{cm.WithLogger(log)}
		if *state != "" {
			opts = append(opts, cm.WithReports(filepath.Join(*state, "reports"), cfg.CM.Reports))
		}
		rep, err = cm.ApplyOnce(ctx, cfg, *dry, opts...)
		if err != nil {
			return err
		}
	} else {
		r, err := callOne[cm.Report](ctx, *socket, apiRequest("apply", "", *dry))
		if err != nil {
			return err
		}
		rep = &r
	}
	if *jsonOut {
		return printJSON(rep)
	}
	fmt.Print(rep.String())
	if rep.Failed > 0 {
		return exitCode(2)
	}
	return nil
}

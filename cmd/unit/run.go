package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/cm"
	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/daemon"
	"github.com/unit-os/unit/systemd/translate"
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
		*state = runStateDir()
	}
	if *socket == "" {
		*socket = filepath.Join(*state, "unit.sock")
	}
	// Services are told both (UNIT_STATE, UNIT_SOCKET) and run in /;
	// the engine's managed-file writer and the reports refuse a relative
	// path, and a config error names its file by this path.
	var err error
	if *state, err = filepath.Abs(*state); err != nil {
		return err
	}
	if *dir, err = filepath.Abs(*dir); err != nil {
		return err
	}
	if *socket, err = filepath.Abs(*socket); err != nil {
		return err
	}
	loader, err := hostLoader()
	if err != nil {
		return err
	}
	// A service without exec runs from this machine's unit file; what
	// the image's packages declare is below /etc/unit.
	loader.Declared, loader.Vendor = translate.Declared("/"), config.VendorDir
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	return daemon.RunHost(daemon.Options{ConfigDir: *dir, StateDir: *state, Socket: *socket, Log: log, Loader: loader})
}

// hostLoader loads a config as unit runs it on a host: [web] runs this
// very program (a host has no /bin/unit), and [fleet] agent's unit-fleet
// is the one beside it or in PATH, its absence an error at the agent key.
// As PID 1 the zero config.Loader is right: /bin/unit is this program.
func hostLoader() (config.Loader, error) {
	self, err := os.Executable()
	if err != nil {
		return config.Loader{}, fmt.Errorf("the running unit program: %w", err)
	}
	return config.Loader{Unit: self, Fleet: func() (string, error) { return helperProgram(self, "unit-fleet") }}, nil
}

func cmdCheck(args []string) error {
	fs := newFlags("check")
	dir := fs.String("config", "/etc/unit", "config directory (when no FILE or DIR is given)")
	jsonOut := fs.Bool("json", false, "JSON output: {ok, services, files, errors: [{file, line, message}]}")
	paths, err := parse(fs, args)
	if err != nil {
		return err
	}
	loader, err := hostLoader()
	if err != nil {
		return err
	}
	what := *dir
	load := func(l config.Loader) (*config.Config, error) { return l.Load(*dir) }
	if len(paths) > 0 {
		what = strings.Join(paths, " ")
		files, ferr := checkFiles(paths)
		load = func(l config.Loader) (*config.Config, error) {
			if ferr != nil {
				return nil, ferr
			}
			return l.LoadFiles(files...)
		}
	}
	// A service without exec takes its keys from the unit file a package
	// of the system ships, as the image build does: look in its kegs.
	cfg, err := loadSystem(loader, load, args)
	if err == nil {
		err = cm.Validate(cfg)
	}
	if *jsonOut {
		return checkJSON(cfg, err)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitCode(1)
	}
	for _, w := range hostWarnings(cfg) {
		fmt.Fprintln(os.Stderr, "warning:", w)
	}
	for _, n := range cfg.Notes {
		fmt.Fprintln(os.Stderr, n)
	}
	fmt.Printf("%s: ok (%d services, %d files)\n", what, len(cfg.Services), len(cfg.Files))
	return nil
}

// hostWarnings are what would fail on this machine but may be right for
// the system the config is meant for: a service's user or group missing
// here, a program not found (for a system with [system] packages, in
// neither their kegs in the store nor here). `unit image build` makes
// them errors, since it knows the system.
func hostWarnings(cfg *config.Config) []string {
	passwd, _ := os.ReadFile("/etc/passwd")
	group, _ := os.ReadFile("/etc/group")
	var out []string
	for _, e := range config.UnknownAccounts(cfg, string(passwd), string(group)) {
		out = append(out, e.Error())
	}
	// An image's programs come from its [system] packages, not from this
	// machine: look in their kegs first (when they are built).
	inKegs := func(string) bool { return false }
	var kegsErr error
	if len(cfg.System.Packages) > 0 {
		inKegs, kegsErr = systemPrograms(cfg.System.Packages)
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Services)) {
		s := cfg.Services[name]
		if len(s.Exec) == 0 {
			continue
		}
		pre, _ := config.CommandPrefix(s.Exec[0]) // "!/usr/sbin/chronyd"
		if kegsErr == nil && inKegs(pre.Prog) {
			continue
		}
		if _, err := exec.LookPath(pre.Prog); err == nil {
			continue // busybox's applets and unit's own are not kegs
		}
		what := fmt.Sprintf("%s: service.%s.exec: %s", s.ExecPos(), name, pre.Prog)
		switch {
		case len(cfg.System.Packages) == 0:
			out = append(out, what+" is not on this system")
		case kegsErr != nil:
			out = append(out, fmt.Sprintf("%s is not on this machine, and the system's packages cannot be looked in: %v", what, kegsErr))
		default:
			out = append(out, what+" is in none of the system's packages ([system] packages)")
		}
	}
	return out
}

// checkFiles expands the arguments of unit check: a directory stands for
// its *.toml files, in name order, as the daemon reads it.
func checkFiles(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		m, err := filepath.Glob(filepath.Join(p, "*.toml"))
		if err != nil {
			return nil, err
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("%s: no *.toml files", p)
		}
		files = append(files, m...)
	}
	return files, nil
}

// checkJSON prints the result of unit check for a program to read.
func checkJSON(cfg *config.Config, err error) error {
	type jsonErr struct {
		File    string `json:"file,omitempty"`
		Line    int    `json:"line,omitempty"`
		Message string `json:"message"`
	}
	out := struct {
		OK       bool      `json:"ok"`
		Services int       `json:"services"`
		Files    int       `json:"files"`
		Errors   []jsonErr `json:"errors"`
	}{OK: err == nil, Errors: []jsonErr{}}
	if err == nil {
		out.Services, out.Files = len(cfg.Services), len(cfg.Files)
	}
	var es config.Errors
	var e1 config.Error
	switch {
	case errors.As(err, &es):
		for _, e := range es {
			out.Errors = append(out.Errors, jsonErr{e.Pos.File, e.Pos.Line, e.Msg})
		}
	case errors.As(err, &e1):
		out.Errors = append(out.Errors, jsonErr{e1.Pos.File, e1.Pos.Line, e1.Msg})
	case err != nil:
		out.Errors = append(out.Errors, jsonErr{Message: err.Error()})
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if werr := enc.Encode(out); werr != nil {
		return werr
	}
	if err != nil {
		return exitCode(1)
	}
	return nil
}

func cmdApply(args []string) error {
	fs := newFlags("apply")
	dir := fs.String("config", "/etc/unit", "config directory (with --once)")
	once := fs.Bool("once", false, "converge standalone, without a running daemon, and exit")
	dry := fs.Bool("dry-run", false, "show what would change, change nothing")
	state := fs.String("state", "", "with --once: keep the report in STATE/reports (for unit report)")
	jsonOut := fs.Bool("json", false, "JSON output")
	detailed := fs.Bool("detailed-exitcodes", false, "exit 0 nothing changed, 2 changed, 4 failures, 6 both (as Puppet's)")
	socket := socketFlag(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	ctx := context.Background()
	var rep *cm.Report
	if *once {
		cfg, err := config.Loader{Declared: translate.Declared("/"), Vendor: config.VendorDir}.Load(*dir)
		if err != nil {
			return fmt.Errorf("config %s:\n%w", *dir, err) // main prints a line an error
		}
		// The report says each resource's outcome; the log adds the rest.
		log := slog.New(reportedHandler{daemon.LineHandler(os.Stderr, "unit: ", slog.LevelWarn)})
		opts := []cm.Option{cm.WithLogger(log)}
		if *state != "" {
			opts = append(opts, cm.WithReports(filepath.Join(*state, "reports"), cfg.CM.Reports))
		}
		rep, err = cm.ApplyOnce(ctx, cfg, *dry, opts...)
		if err != nil {
			return err
		}
	} else {
		r, err := callOne[api.Report](ctx, *socket, apiRequest("apply", "", *dry))
		if err != nil {
			return err
		}
		rep = cmReport(r)
	}
	if *jsonOut {
		if err := printJSON(rep); err != nil {
			return err
		}
	} else {
		fmt.Print(rep.String())
	}
	return applyExit(rep, *detailed)
}

// cmReport is the daemon's answer to apply as the engine's report, which
// prints it (the inverse of the daemon's conversion).
func cmReport(r api.Report) *cm.Report {
	out := &cm.Report{Time: r.Time, Trigger: r.Trigger, Unchanged: r.Unchanged, Failed: r.Failed, Skipped: r.Skipped,
		Drifted: r.Drifted, Duration: r.Duration, DryRun: r.DryRun, ConfigError: r.ConfigError}
	for _, c := range r.Changes {
		cc := cm.Change{Resource: c.Resource, From: c.From, Result: c.Result, What: c.What, Diff: c.Diff, Duration: c.Duration, Err: c.Err}
		for _, d := range c.Deltas {
			cc.Deltas = append(cc.Deltas, cm.Delta(d))
		}
		out.Changes = append(out.Changes, cc)
	}
	for _, f := range r.Fights {
		out.Fights = append(out.Fights, cm.Fight(f))
	}
	return out
}

// applyExit is unit apply's exit status: 1 when a resource failed, else 0;
// with --detailed-exitcodes Puppet's: 2 for changes (or, with --dry-run,
// changes it would make), 4 for failures, 6 for both.
func applyExit(rep *cm.Report, detailed bool) error {
	if !detailed {
		if rep.Failed > 0 {
			return exitCode(1)
		}
		return nil
	}
	code := 0
	if rep.Changed() > 0 {
		code |= 2
	}
	if rep.Failed > 0 {
		code |= 4
	}
	if code == 0 {
		return nil
	}
	return exitCode(code)
}

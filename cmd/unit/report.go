package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/unit-os/unit/cm"
)

// defaultStateDir is the daemon's state directory a command reads unless
// told: UNIT_STATE (set for the services of a daemon), else where `unit
// run` keeps its state by default.
func defaultStateDir() string {
	if s := os.Getenv("UNIT_STATE"); s != "" {
		return s
	}
	return runStateDir()
}

// runStateDir is where `unit run` keeps its state unless told: /run/unit
// as root, else $XDG_RUNTIME_DIR/unit.
func runStateDir() string {
	if os.Getuid() != 0 {
		if rt := os.Getenv("XDG_RUNTIME_DIR"); rt != "" {
			return filepath.Join(rt, "unit")
		}
	}
	return cm.StateDir
}

// cmdReport shows the latest convergence report, read from the state
// directory (the daemon need not be asked: reports are files).
func cmdReport(args []string) error {
	fs := newFlags("report")
	state := fs.String("state", defaultStateDir(), "state directory of the daemon (reports are in STATE/reports)")
	jsonOut := fs.Bool("json", false, "JSON output")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	rep, err := cm.LatestReport(filepath.Join(*state, "reports"))
	if err != nil {
		return err
	}
	if *jsonOut {
		return printJSON(rep)
	}
	fmt.Printf("report of %s (trigger: %s)\n", rep.Time.Format("2006-01-02 15:04:05.000 MST"), rep.Trigger)
	fmt.Print(rep.String())
	return nil
}

package main

import (
	"fmt"
	"os"

	"github.com/unit-os/unit/cm"
	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/systemd/translate"
)

// cmdFacts prints what templates see as .facts. The [system] values come
// from the config when it loads; an invalid config is reported but the
// machine's facts are still shown.
func cmdFacts(args []string) error {
	fs := newFlags("facts")
	dir := fs.String("config", "/etc/unit", "config directory (for the [system] values)")
	state := fs.String("state", defaultStateDir(), "the daemon's state directory (its platform facts: STATE/platform.json)")
	jsonOut := fs.Bool("json", false, "JSON output")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := config.Loader{Declared: translate.Declared("/")}.Load(*dir)
	if err != nil {
		if _, statErr := os.Stat(*dir); statErr == nil {
			fmt.Fprintln(os.Stderr, "unit facts: config not loaded, [system] values missing:", err)
		}
		cfg = nil
	}
	f := cm.GatherFacts(cfg, *state)
	if *jsonOut {
		return printJSON(f)
	}
	fmt.Print(f.String())
	return nil
}

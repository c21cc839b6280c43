package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/supervise"
)

// Nagios plugin states, which are also the exit codes of `unit health`.
const (
	nagiosOK = iota
	nagiosWarning
	nagiosCritical
	nagiosUnknown
)

var nagiosNames = []string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}

// cmdHealth is `unit health`: one line in the Nagios plugin format, so
// any Nagios, Icinga or NRPE setup (and the fleet, later) can call it:
// `OK: 5 WARNING: 0 CRITICAL: 0 UNKNOWN: 0 | ok=5 ...` (the count in each
// state), then the items behind each state that is not OK; the exit code
// is the worst state: 0, 1, 2 or 3.
func cmdHealth(args []string) error {
	fs := newFlags("health")
	withChecks := fs.Bool("checks", false, "ask the [check.NAME] questions too (each within its own time)")
	socket := socketFlag(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := callOne[api.StatusReply](ctx, *socket, api.Request{Cmd: "status"})
	if err != nil {
		fmt.Printf("OK: 0 WARNING: 0 CRITICAL: 0 UNKNOWN: 1 | unknown=1\nUNKNOWN unit: does not answer: %v\n", err)
		return exitCode(nagiosUnknown)
	}
	items := serviceStates(rep)
	if *withChecks {
		res, err := callChecks(ctx, *socket, 0)
		if err != nil && !strings.Contains(err.Error(), "no [check.NAME]") {
			items = append(items, healthItem{"checks", nagiosUnknown, err.Error()})
		}
		for _, r := range res {
			st := nagiosOK
			if !r.OK {
				st = nagiosCritical
			}
			items = append(items, healthItem{"check:" + r.Name, st, r.Detail})
		}
	}
	for _, f := range rep.Failed {
		items = append(items, healthItem{f.Resource, nagiosWarning, f.Error})
	}
	if rep.ConfigError != "" {
		items = append(items, healthItem{"config", nagiosWarning, "the config on disk is in error; the last good one runs"})
	}
	if worst := printHealth(os.Stdout, items, rep); worst != nagiosOK {
		return exitCode(worst)
	}
	return nil
}

// healthItem is one thing judged: a service, a check, a resource.
type healthItem struct {
	name   string
	state  int
	detail string
}

// serviceStates judges each enabled service: running (healthy, if health
// is set) or a one-shot that exited 0 is OK; on its way up or failing its
// health is WARNING; failed, exited badly or stopped is CRITICAL.
func serviceStates(rep api.StatusReply) []healthItem {
	var out []healthItem
	for _, s := range rep.Services {
		if !s.Enabled {
			continue
		}
		it := healthItem{name: s.Name, detail: s.State}
		switch {
		case serviceUp(s) && (s.Health == "" || s.Health == "ok" || s.Health == "pending"):
			it.state = nagiosOK
		case serviceUp(s):
			it.state, it.detail = nagiosWarning, "health "+s.Health
		case s.State == supervise.StateStarting || s.State == supervise.StateWaiting || s.State == supervise.StateBackoff:
			it.state = nagiosWarning
		default:
			it.state = nagiosCritical
		}
		if s.Reason != "" && it.state != nagiosOK {
			it.detail += " (" + s.Reason + ")"
		} else if s.LastExit != "" && it.state == nagiosCritical {
			it.detail += " (" + s.LastExit + ")"
		}
		out = append(out, it)
	}
	return out
}

// printHealth writes the plugin output and returns the worst state.
func printHealth(w io.Writer, items []healthItem, rep api.StatusReply) int {
	var count [4]int
	worst := nagiosOK
	restarts := 0
	for _, it := range items {
		count[it.state]++
		worst = max(worst, it.state)
	}
	for _, s := range rep.Services {
		restarts += s.Restarts
	}
	// Counts per state, as MCollective's aggregated check prints them; the
	// exit code is the worst state.
	fmt.Fprintf(w, "OK: %d WARNING: %d CRITICAL: %d UNKNOWN: %d | ok=%d warning=%d critical=%d unknown=%d restarts=%dc\n",
		count[nagiosOK], count[nagiosWarning], count[nagiosCritical], count[nagiosUnknown],
		count[nagiosOK], count[nagiosWarning], count[nagiosCritical], count[nagiosUnknown], restarts)
	// The worst first, then by name: what to look at leads.
	sort.SliceStable(items, func(i, j int) bool {
		if items[i].state != items[j].state {
			return items[i].state > items[j].state
		}
		return items[i].name < items[j].name
	})
	for _, it := range items {
		if it.state != nagiosOK {
			fmt.Fprintf(w, "%s %s: %s\n", nagiosNames[it.state], it.name, it.detail)
		}
	}
	return worst
}

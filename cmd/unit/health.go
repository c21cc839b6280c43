package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/unit-os/unit/api"
)

// cmdHealth is `unit health`: one line in the Nagios plugin format, so
// any Nagios, Icinga or NRPE setup (and the fleet) can call it, led by
// the worst state: `OK: 5 ok, 0 warning, 0 critical, 0 unknown | ok=5
// ...`, then the items behind each state that is not OK; the exit code is
// the worst state: 0, 1, 2 or 3 (`UNKNOWN: connect to unit at ...` when
// unit does not answer).
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
		return exitCode(api.PrintUnknown(os.Stdout, err))
	}
	items := rep.Health()
	if *withChecks {
		res, err := callChecks(ctx, *socket, 0)
		if err != nil && !strings.Contains(err.Error(), "no [check.NAME]") {
			items = append(items, api.HealthItem{Name: "checks", State: api.Unknown, Detail: err.Error()})
		}
		for _, r := range res {
			st := api.OK
			if !r.OK {
				st = api.Critical
			}
			items = append(items, api.HealthItem{Name: "check:" + r.Name, State: st, Detail: r.Detail})
		}
	}
	restarts := 0
	for _, s := range rep.Services {
		restarts += s.Restarts
	}
	if worst := api.PrintHealth(os.Stdout, items, fmt.Sprintf(" restarts=%dc", restarts)); worst != api.OK {
		return exitCode(worst)
	}
	return nil
}

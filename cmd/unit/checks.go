package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/unit-os/unit/api"
)

// exitChecksFailed: a check did not pass (unit checks, unit image test).
const exitChecksFailed = exitCode(1)

// cmdChecks is `unit checks`: the running system's [check.NAME] answers.
func cmdChecks(args []string) error {
	fs := newFlags("checks")
	jsonOut := fs.Bool("json", false, "JSON output")
	wait := fs.Duration("wait", 0, "first wait this long for the services to be ready")
	socket := socketFlag(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	res, err := callChecks(context.Background(), *socket, *wait)
	if err != nil {
		return err
	}
	if *jsonOut {
		if err := printJSON(res); err != nil {
			return err
		}
	} else if err := printChecks(os.Stdout, res); err != nil {
		return err
	}
	return checksExit(res)
}

func callChecks(ctx context.Context, socket string, wait time.Duration) ([]api.CheckResult, error) {
	var res []api.CheckResult
	err := api.Call(ctx, socket, api.Request{Cmd: "checks", Wait: wait}, func(b json.RawMessage) error {
		var r api.CheckResult
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		res = append(res, r)
		return nil
	})
	return res, err
}

// printChecks is the pass/fail table, then a line of totals.
func printChecks(w io.Writer, res []api.CheckResult) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tRESULT\tKIND\tTARGET\tTRIES\tTIME\tDETAIL")
	failed := 0
	for _, r := range res {
		result := "pass"
		if !r.OK {
			result = "FAIL"
			failed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.Name, result, r.Kind, r.Target, r.Tries, r.Duration.Round(time.Millisecond), r.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d checks: %d passed, %d failed\n", len(res), len(res)-failed, failed)
	return err
}

func checksExit(res []api.CheckResult) error {
	for _, r := range res {
		if !r.OK {
			return exitChecksFailed
		}
	}
	return nil
}

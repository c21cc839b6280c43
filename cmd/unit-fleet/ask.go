package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/fleet"
	"github.com/unit-os/unit/fleet/operator"
	"github.com/unit-os/unit/supervise"
)

// ask sends one signed request to the matching nodes and prints what
// came back: each node's answer, `N / M nodes in T ms`, and the nodes
// that should have answered (their last status matches the filter) and
// did not.
func ask(ctx context.Context, o *operatorFlags, req fleet.Request, print func(io.Writer, fleet.Reply)) error {
	where, err := o.filter()
	if err != nil {
		return err
	}
	req.Where = where
	nc, sg, err := o.connect()
	if err != nil {
		return err
	}
	defer nc.Close()
	expected := operator.Expect(ctx, nc, where)
	if sg != nil {
		if err := sg.Sign(&req); err != nil {
			return err
		}
	}
	var progress func(int)
	if isTerminal(os.Stderr) && !*o.jsonOut {
		progress = func(n int) { fmt.Fprintf(os.Stderr, "\r%d / %d nodes", n, len(expected)) }
	}
	res, err := operator.Ask(ctx, nc, req, *o.window, *o.max, expected, progress)
	if progress != nil {
		fmt.Fprint(os.Stderr, "\r\033[K")
	}
	if err != nil {
		return err
	}
	t := operator.Count(res, expected)
	if *o.jsonOut {
		err = printJSON(struct {
			*operator.Result
			Expected int      `json:"expected"`
			Missing  []string `json:"missing,omitempty"`
		}{res, len(expected), t.Missing})
	} else {
		for _, r := range res.Replies {
			if r.Error != "" {
				fmt.Printf("%s\terror: %s\n", r.Node, r.Error)
				continue
			}
			print(os.Stdout, r)
		}
		fmt.Printf("%d / %d nodes in %d ms", len(res.Replies), max(len(expected), len(res.Replies)), res.Took.Milliseconds())
		if t.Failed > 0 {
			fmt.Printf(", %d failed", t.Failed)
		}
		fmt.Println()
		if len(t.Missing) > 0 {
			fmt.Printf("did not answer: %s\n", strings.Join(t.Missing, " "))
		}
		if res.Unproven > 0 {
			fmt.Printf("left out: %d replies not signed by the node they name\n", res.Unproven)
		}
	}
	if err == nil && !t.Complete() {
		err = exitError(1)
	}
	return err
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

func run(ctx context.Context, _ *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	o := newOperatorFlags(fs, time.Minute)
	dry := fs.Bool("dry-run", false, "apply: say what would change")
	lines := fs.Int("n", 20, "logs: lines per node")
	pos := parseArgs(fs, args)
	if len(pos) < 1 || len(pos) > 2 {
		return errors.New("usage: unit-fleet run [--where K=V]... CMD [NAME] (status, health, checks, metrics, logs NAME, start|stop|restart NAME, apply [--dry-run])")
	}
	req := fleet.Request{Cmd: pos[0], DryRun: *dry, Lines: *lines}
	if len(pos) == 2 {
		req.Name = pos[1]
	}
	return ask(ctx, o, req, printReply(req.Cmd))
}

// printReply is a command's answer, one or a few lines per node.
func printReply(cmd string) func(io.Writer, fleet.Reply) {
	return func(w io.Writer, r fleet.Reply) {
		for _, d := range r.Data {
			switch cmd {
			case "status":
				var st api.StatusReply
				if json.Unmarshal(d, &st) == nil {
					fmt.Fprintf(w, "%s\t%s\n", r.Node, statusLine(st))
					continue
				}
			case "health":
				var h struct {
					State int              `json:"state"`
					Items []api.HealthItem `json:"items"`
				}
				if json.Unmarshal(d, &h) == nil && h.State >= 0 && h.State < len(api.StateNames) {
					fmt.Fprintf(w, "%s\t%s\n", r.Node, api.StateNames[h.State])
					for _, it := range h.Items {
						if it.State != api.OK && it.State < len(api.StateNames) {
							fmt.Fprintf(w, "%s\t  %s %s: %s\n", r.Node, api.StateNames[it.State], it.Name, it.Detail)
						}
					}
					continue
				}
			case "logs":
				var l supervise.LogLine
				if json.Unmarshal(d, &l) == nil {
					fmt.Fprintf(w, "%s\t%s %s\n", r.Node, l.Time.Format("15:04:05"), l.Text)
					continue
				}
			case "update":
				var u api.UpdateProgress
				if json.Unmarshal(d, &u) == nil {
					fmt.Fprintf(w, "%s\t%s\n", r.Node, u.Message)
					continue
				}
			case "metrics", "resource":
				var s string
				if json.Unmarshal(d, &s) == nil {
					for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
						fmt.Fprintf(w, "%s\t%s\n", r.Node, line)
					}
					continue
				}
			}
			fmt.Fprintf(w, "%s\t%s\n", r.Node, d)
		}
		if len(r.Data) == 0 {
			fmt.Fprintf(w, "%s\tok\n", r.Node)
		}
	}
}

// statusLine sums a node's services up.
func statusLine(st api.StatusReply) string {
	var down []string
	up := 0
	for _, s := range st.Services {
		if api.ServiceUp(s) {
			up++
		} else if s.Enabled {
			down = append(down, s.Name+" "+s.State)
		}
	}
	line := fmt.Sprintf("%d/%d services up", up, len(st.Services))
	if st.Release != "" {
		line += ", release " + st.Release
	}
	if len(down) > 0 {
		line += "; " + strings.Join(down, ", ")
	}
	if st.ConfigError != "" {
		line += "; config error"
	}
	return line
}

func ls(ctx context.Context, _ *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("ls", flag.ExitOnError)
	o := newOperatorFlags(fs, 3*time.Second)
	parseArgs(fs, args)
	return ask(ctx, o, fleet.Request{Cmd: "ping"}, func(w io.Writer, r fleet.Reply) {
		keys := make([]string, 0, len(r.Facts))
		for k := range r.Facts {
			if k != "node" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%s", k, r.Facts[k])
		}
		fmt.Fprintf(w, "%s\t%s\n", r.Node, strings.TrimSpace(b.String()))
	})
}

func resource(ctx context.Context, _ *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("resource", flag.ExitOnError)
	o := newOperatorFlags(fs, 5*time.Minute)
	dry := fs.Bool("dry-run", false, "say what would change")
	pos := parseArgs(fs, args)
	if len(pos) != 1 {
		return errors.New("usage: unit-fleet resource [--where K=V]... [--dry-run] 'KIND NAME KEY=VALUE...'")
	}
	if _, err := fleet.ParseResource(pos[0]); err != nil {
		return err
	}
	return ask(ctx, o, fleet.Request{Cmd: "resource", Resource: pos[0], DryRun: *dry}, printReply("resource"))
}

func check(ctx context.Context, _ *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	o := newOperatorFlags(fs, 3*time.Second)
	parseArgs(fs, args)
	where, err := o.filter()
	if err != nil {
		return err
	}
	nc, sg, err := o.connect()
	if err != nil {
		fmt.Printf("UNKNOWN: the fleet's broker: %v\n", err)
		return exitError(api.Unknown)
	}
	defer nc.Close()
	kv, err := operator.Bucket(ctx, nc, fleet.StatusBucket)
	if err != nil {
		fmt.Printf("UNKNOWN: %v\n", err)
		return exitError(api.Unknown)
	}
	v, err := operator.Check(ctx, nc, kv, sg, where, *o.window, *o.max)
	if err != nil {
		fmt.Printf("UNKNOWN: %v\n", err)
		return exitError(api.Unknown)
	}
	code := api.Worst(v.Nodes)
	if *o.jsonOut {
		printJSON(v)
	} else {
		code = v.Print(os.Stdout)
	}
	if code != api.OK {
		return exitError(code)
	}
	return nil
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/event"
	"github.com/unit-os/unit/supervise"
)

func apiRequest(cmd, name string, dry bool) api.Request {
	return api.Request{Cmd: cmd, Name: name, DryRun: dry}
}

// callOne sends req and decodes the single data line of the answer.
func callOne[T any](ctx context.Context, socket string, req api.Request) (T, error) {
	var out T
	err := api.Call(ctx, socket, req, func(b json.RawMessage) error { return json.Unmarshal(b, &out) })
	return out, err
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func cmdStatus(args []string) (err error) {
	fs := newFlags("status")
	jsonOut := fs.Bool("json", false, "JSON output")
	socket := socketFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	name := ""
	if len(pos) > 0 {
		name = pos[0]
	}
	rep, err := getStatus(*socket, name)
	if err != nil {
		return err
	}
	code := statusExit(rep, name)
	if *jsonOut {
		if err := printJSON(rep); err != nil {
			return err
		}
		return code
	}
	defer func() {
		if err == nil && code != nil {
			err = code
		}
	}()
	if name == "" && (rep.State != "" || rep.Release != "") {
		// The header: the daemon's own state first ("starting": the
		// services are not handed over yet, so the list is empty).
		var head []string
		if rep.State != "" {
			head = append(head, "system "+rep.State)
		}
		if rep.Release != "" {
			head = append(head, "release "+rep.Release+slotsText(rep.Slots))
		}
		fmt.Printf("%s\n\n", strings.Join(head, ", "))
	}
	if rep.ConfigError != "" {
		// First, like a failed unit in systemctl: what is on disk is not
		// what runs.
		fmt.Printf("config error (the last good config keeps running):\n%s\n\n", strings.TrimRight(rep.ConfigError, "\n"))
	}
	st := rep.Services
	if name != "" && len(st) == 1 {
		if err := printStatusDetail(st[0]); err != nil {
			return err
		}
		printRecentLogs(*socket, name, 10)
		return nil
	}
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tSTATE\tPID\tUPTIME\tRESTARTS\tLAST EXIT\tMEMORY\tHEALTH\tREASON")
	for _, s := range st {
		pid, mem := "-", "-"
		if s.PID > 0 {
			pid = fmt.Sprint(s.PID)
		}
		if s.Memory > 0 {
			mem = fmt.Sprintf("%.1fM", float64(s.Memory)/(1<<20))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", s.Name, s.State, pid, dash(s.Uptime), s.Restarts,
			dash(s.LastExit), mem, dash(s.Health), s.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// A failed service's last lines go under its row, after the table is
	// aligned: a line without tabs would split tabwriter's columns.
	rows := strings.SplitAfter(table.String(), "\n")
	for i, row := range rows {
		fmt.Print(row)
		if i > 0 && i <= len(st) {
			for _, l := range rep.LastLog[st[i-1].Name] {
				fmt.Printf("    %s\n", l)
			}
		}
	}
	if len(rep.Failed) > 0 {
		fmt.Printf("\nfailed resources:\n")
		for _, f := range rep.Failed {
			fmt.Printf("  %s: %s\n", f.Resource, f.Error)
		}
	}
	if n := rep.InotifyOverflows; n > 0 {
		fmt.Printf("\ninotify events lost %d time(s): every resource was re-checked each time\n", n)
	}
	return nil
}

// printStatusDetail is `unit status NAME`: one field a line, like systemctl status.
func printStatusDetail(s api.ServiceStatus) error {
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 1, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, v)
		}
	}
	state := s.State
	if s.Reason != "" {
		state += " (" + s.Reason + ")"
	}
	row("service", s.Name)
	row("state", state+" since "+s.Since.Format(time.RFC3339))
	row("enabled", fmt.Sprint(s.Enabled))
	if s.PID > 0 {
		row("pid", fmt.Sprint(s.PID))
	}
	row("uptime", s.Uptime)
	ready := s.Ready
	if s.ReadyMs > 0 || s.State == api.ServiceRunning {
		ready += fmt.Sprintf(", ready after %d ms", s.ReadyMs)
	}
	row("readiness", ready)
	row("status", s.Notify)
	row("health", s.Health)
	row("restarts", fmt.Sprint(s.Restarts))
	row("last exit", s.LastExit)
	if s.Memory > 0 {
		row("memory", fmt.Sprintf("%.1fM", float64(s.Memory)/(1<<20)))
	}
	row("cgroup", s.Cgroup)
	row("requires", strings.Join(s.Requires, ", "))
	row("log dir", s.LogDir)
	return tw.Flush()
}

// printRecentLogs prints the last n lines of a service's output under its
// status, as systemctl status does; the status stands without them.
func printRecentLogs(socket, name string, n int) {
	ctx, cancel := interruptible()
	defer cancel()
	first := true
	api.Call(ctx, socket, api.Request{Cmd: "logs", Name: name, Lines: n}, func(b json.RawMessage) error {
		var l supervise.LogLine
		if err := json.Unmarshal(b, &l); err != nil {
			return err
		}
		if first {
			fmt.Println()
			first = false
		}
		fmt.Println(logLine(l, false))
		return nil
	})
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func cmdControl(cmd string, args []string) error {
	fs := newFlags(cmd)
	socket := socketFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errUsage(cmd)
	}
	return api.Call(context.Background(), *socket, api.Request{Cmd: cmd, Name: pos[0]}, nil)
}

func cmdPower(cmd string, args []string) error {
	fs := newFlags(cmd)
	socket := socketFlag(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	return api.Call(context.Background(), *socket, api.Request{Cmd: cmd}, nil)
}

// interruptible returns a context cancelled by ctrl-c, for following streams.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
}

func cmdLogs(args []string) error {
	fs := newFlags("logs")
	follow := fs.Bool("f", false, "follow")
	n := fs.Int("n", 0, "last N lines (0: all kept)")
	since := fs.String("since", "", `only lines from then on: "10m" (ago), "15:04[:05]" (today), "2006-01-02 15:04:05" or RFC 3339`)
	jsonOut := fs.Bool("json", false, "JSON output")
	socket := socketFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return errUsage("logs")
	}
	name := ""
	if len(pos) == 1 {
		name = pos[0]
	}
	var from time.Time
	if *since != "" {
		if from, err = parseSince(*since, time.Now()); err != nil {
			return usageError{err}
		}
	}
	ctx, cancel := interruptible()
	defer cancel()
	return api.Call(ctx, *socket, api.Request{Cmd: "logs", Name: name, Lines: *n, Follow: *follow, Since: from}, func(b json.RawMessage) error {
		if *jsonOut {
			_, err := fmt.Println(string(b))
			return err
		}
		var l supervise.LogLine
		if err := json.Unmarshal(b, &l); err != nil {
			return err
		}
		_, err := fmt.Println(logLine(l, name == ""))
		return err
	})
}

// logTime is fixed-width, so lines from many services line up.
const logTime = "2006-01-02T15:04:05.000000"

// logLine is one line as unit logs prints it; with every service
// interleaved, each line names its service, as journalctl does.
func logLine(l supervise.LogLine, withName bool) string {
	t := l.Time.Local().Format(logTime)
	if withName {
		return t + " " + l.Service + ": " + l.Text
	}
	return t + " " + l.Text
}

// parseSince reads --since: a duration ago, a clock time today, a date and
// time, or RFC 3339; local time unless it says otherwise.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{"15:04:05", "15:04"} {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			y, m, d := now.Date()
			return time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), 0, now.Location()), nil
		}
	}
	return time.Time{}, fmt.Errorf(`--since %q: expected "10m" (ago), "15:04[:05]", "2006-01-02 15:04:05" or RFC 3339`, s)
}

func cmdEvents(args []string) error {
	fs := newFlags("events")
	jsonOut := fs.Bool("json", false, "JSON output")
	socket := socketFlag(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	ctx, cancel := interruptible()
	defer cancel()
	return api.Call(ctx, *socket, api.Request{Cmd: "events"}, func(b json.RawMessage) error {
		if *jsonOut {
			_, err := fmt.Println(string(b))
			return err
		}
		var e event.Event
		if err := json.Unmarshal(b, &e); err != nil {
			return err
		}
		line := fmt.Sprintf("%s %s %s", e.Time.Format(time.RFC3339Nano), e.Resource, e.State)
		if e.Message != "" {
			// A config error lists one file:line a line: indent them
			// under the event.
			line += " " + strings.ReplaceAll(strings.TrimRight(e.Message, "\n"), "\n", "\n    ")
		}
		_, err := fmt.Println(strings.TrimSpace(line))
		return err
	})
}

// slotsText describes a disk machine's slots after the release line:
// the running slot's place and state on that line, the other slot and
// the next boot below it.
func slotsText(slots []api.SlotStatus) string {
	if len(slots) == 0 {
		return ""
	}
	var b strings.Builder
	run := slots[0]
	fmt.Fprintf(&b, " (slot %s, generation %d, %s)", run.Slot, run.Gen, run.State)
	for _, sl := range slots[1:] {
		fmt.Fprintf(&b, "\nslot %s: ", sl.Slot)
		if sl.Gen == 0 {
			b.WriteString("empty")
			continue
		}
		fmt.Fprintf(&b, "generation %d, release %s, %s", sl.Gen, dash(sl.Release), sl.State)
		if sl.Reason != "" {
			fmt.Fprintf(&b, ": %s", sl.Reason)
		}
	}
	for _, sl := range slots {
		if sl.Next && !sl.Running {
			fmt.Fprintf(&b, "\nnext boot: slot %s", sl.Slot)
		}
	}
	return b.String()
}

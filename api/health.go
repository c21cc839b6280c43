package api

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Nagios plugin states: `unit health` exits with them, and the fleet's
// nodes publish them (unit-fleet check aggregates).
const (
	OK = iota
	Warning
	Critical
	Unknown
)

// StateNames are the states' names, indexed by state.
var StateNames = []string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}

// HealthItem is one thing judged: a service, a check, a resource.
type HealthItem struct {
	Name   string `json:"name"`
	State  int    `json:"state"`
	Detail string `json:"detail,omitempty"`
}

// ServiceUp reports whether a service counts as up: running, or a
// one-shot that exited 0.
func ServiceUp(s ServiceStatus) bool {
	return s.State == ServiceRunning || s.State == ServiceExited && s.LastExit == "exit 0"
}

// Failed reports whether the service is down and will not start by
// itself after a failure, because unit gave up on it (ServiceFailed) or
// because it exited non-zero or by a signal under a policy that does not
// restart it. A one-shot that exited 0 is not failed.
func (s ServiceStatus) Failed() bool {
	return s.State == ServiceFailed || s.State == ServiceExited && s.LastExit != "exit 0"
}

// Health judges a status reply: each enabled service (running, and
// healthy if health is set, or a one-shot that exited 0 is OK; on its way
// up or failing its health is WARNING; failed, exited badly or stopped is
// CRITICAL), each failed resource (WARNING) and a config error (WARNING:
// the last good config runs).
func (rep StatusReply) Health() []HealthItem {
	var out []HealthItem
	for _, s := range rep.Services {
		if !s.Enabled {
			continue
		}
		it := HealthItem{Name: s.Name, Detail: s.State}
		switch {
		case ServiceUp(s) && (s.Health == "" || s.Health == "ok" || s.Health == "pending"):
			it.State = OK
		case ServiceUp(s):
			it.State, it.Detail = Warning, "health "+s.Health
		case s.State == ServiceStarting || s.State == ServiceWaiting || s.State == ServiceBackoff:
			it.State = Warning
		default:
			it.State = Critical
		}
		if s.Reason != "" && it.State != OK {
			it.Detail += " (" + s.Reason + ")"
		} else if s.LastExit != "" && it.State == Critical {
			it.Detail += " (" + s.LastExit + ")"
		}
		out = append(out, it)
	}
	for _, f := range rep.Failed {
		out = append(out, HealthItem{f.Resource, Warning, f.Error})
	}
	if rep.ConfigError != "" {
		out = append(out, HealthItem{"config", Warning, "the last good config runs; " + firstError(rep.ConfigError)})
	}
	return out
}

// Degraded is Health's judgement of the whole daemon: a service CRITICAL
// (failed, exited badly, stopped), a resource that failed to converge, or
// a config error. A service on its way up or failing its health check is
// a WARNING here but not degraded: the system is running, as systemd's.
func (rep StatusReply) Degraded() bool {
	if rep.ConfigError != "" || len(rep.Failed) > 0 {
		return true
	}
	return Worst(rep.Health()) == Critical
}

// firstError is the first file:line error of a config error ("config
// DIR:" then one error per line), so a fleet's check names the layer and
// the line at fault.
func firstError(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" && !strings.HasSuffix(l, ":") {
			if len(l) > 300 {
				l = l[:300] + "…"
			}
			return l
		}
	}
	return "the config on disk is in error"
}

// Worst is the worst state of items (OK for none).
func Worst(items []HealthItem) int {
	w := OK
	for _, it := range items {
		w = max(w, it.State)
	}
	return w
}

// PrintHealth writes items in the Nagios plugin format: one line that
// starts with the worst state, as a plugin's does, then the count in each
// state and, after "|", the same counts as perfdata (extra is appended to
// it, e.g. " restarts=3c"); then the items that are not OK, worst first,
// then by name: what to look at leads. It returns the worst state, which
// is the exit code.
func PrintHealth(w io.Writer, items []HealthItem, extra string) int {
	var count [4]int
	for _, it := range items {
		count[it.State]++
	}
	worst := Worst(items)
	printStatusLine(w, worst, fmt.Sprintf("%d ok, %d warning, %d critical, %d unknown", count[OK], count[Warning], count[Critical], count[Unknown]), count, extra)
	sorted := append([]HealthItem(nil), items...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].State != sorted[j].State {
			return sorted[i].State > sorted[j].State
		}
		return sorted[i].Name < sorted[j].Name
	})
	for _, it := range sorted {
		if it.State != OK {
			fmt.Fprintf(w, "%s %s: %s\n", StateNames[it.State], it.Name, oneLine(it.Detail))
		}
	}
	return worst
}

// PrintUnknown is PrintHealth's line when the question could not be
// asked (unit does not answer): "UNKNOWN: why | ok=0 ... unknown=1". It
// returns Unknown, the exit code.
func PrintUnknown(w io.Writer, why error) int {
	printStatusLine(w, Unknown, oneLine(why.Error()), [4]int{Unknown: 1}, "")
	return Unknown
}

// printStatusLine is the plugin's first line: "STATE: text | perfdata".
func printStatusLine(w io.Writer, state int, text string, count [4]int, extra string) {
	fmt.Fprintf(w, "%s: %s | ok=%d warning=%d critical=%d unknown=%d%s\n", StateNames[state],
		strings.ReplaceAll(text, "|", "/"), count[OK], count[Warning], count[Critical], count[Unknown], extra)
}

// oneLine keeps a detail on its line: Nagios reads the first line as the
// status and perfdata.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

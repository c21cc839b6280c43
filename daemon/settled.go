package daemon

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/supervise"
)

// settledOf counts the enabled services that are up (running and ready,
// or a one-shot that exited 0) and says what each other one is doing:
// "unbound exited 1", "web not ready", "db killed by SIGKILL".
func settledOf(sts []supervise.Status) (up int, down []string) {
	for _, st := range sts {
		switch {
		case !st.Enabled:
		case api.ServiceUp(api.ServiceStatus(st)):
			up++
		default:
			down = append(down, st.Name+" "+notUp(st))
		}
	}
	return up, down
}

func notUp(st supervise.Status) string {
	withReason := func(s string) string {
		if st.Reason != "" {
			s += " (" + st.Reason + ")"
		}
		return s
	}
	switch st.State {
	case supervise.StateExited:
		return exitWords(st.LastExit)
	case supervise.StateStarting:
		return "not ready"
	}
	return withReason(st.State)
}

// exitWords says an exit as the boot line does: "exit 1" is "exited 1",
// "signal SIGKILL" "killed by SIGKILL"; why unit killed it, when it did,
// follows in parentheses.
func exitWords(lastExit string) string {
	if lastExit == "" {
		return "exited"
	}
	why, exit := "", lastExit
	// Exit.String has no ": "; what precedes the last one is why unit
	// killed the service.
	if i := strings.LastIndex(lastExit, ": "); i >= 0 {
		why, exit = lastExit[:i], lastExit[i+2:]
	}
	var s string
	switch {
	case strings.HasPrefix(exit, "exit ") && exit != "exit status unknown":
		s = "exited " + strings.TrimPrefix(exit, "exit ")
	case strings.HasPrefix(exit, "signal "):
		s = "killed by " + strings.TrimPrefix(exit, "signal ")
	default:
		s = "exited (" + exit + ")"
	}
	if why != "" {
		s += " (" + why + ")"
	}
	return s
}

// BootSummary is the console's line once the boot has settled, after
// every service's own line: all up, or how many of how many and what the
// others are doing. sinceKernel and sinceInit are seconds.
func BootSummary(up int, down []string, sinceKernel, sinceInit float64) string {
	if len(down) == 0 {
		return fmt.Sprintf("all %d services running %.2fs after kernel start (%.0f ms after /init)", up, sinceKernel, sinceInit*1000)
	}
	return fmt.Sprintf("%d of %d services running; %s (%.2fs after kernel start)", up, up+len(down), strings.Join(down, ", "), sinceKernel)
}

// maxWhyLine bounds the log line quoted on the console under the summary:
// one console line, not a daemon's whole usage text.
const maxWhyLine = 160

// exitLines are the console's lines under the boot summary, one for each
// service that exited and will not run again by itself, with the last
// thing it said (daemons say why they exit on stderr).
func (d *Daemon) exitLines(ctx context.Context) []string {
	sts, _ := d.sup.Status(ctx, "")
	var out []string
	for _, st := range sts {
		// A few lines, as the last may be blank.
		log, _ := d.sup.Logs(st.Name, 20)
		if line, ok := exitedLine(st, log); ok {
			out = append(out, line)
		}
	}
	return out
}

// exitedLine says why st is down, as the summary names it, followed by
// its last non-empty log line: "unbound exited 1: cannot open ...". ok is
// false for a service that is up, starting or waiting.
func exitedLine(st supervise.Status, log []supervise.LogLine) (line string, ok bool) {
	if !st.Enabled || !st.Failed() {
		return "", false
	}
	said := "nothing on stdout or stderr"
	if last := lastLines(log, 1); len(last) == 1 {
		said = last[0]
		if r := []rune(said); len(r) > maxWhyLine {
			said = string(r[:maxWhyLine-1]) + "…"
		}
	}
	return st.Name + " " + notUp(st) + ": " + said, true
}

// lastLines is the text of the last n non-blank lines of log, oldest first.
func lastLines(log []supervise.LogLine, n int) []string {
	var out []string
	for i := len(log) - 1; i >= 0 && len(out) < n; i-- {
		if t := strings.TrimSpace(log[i].Text); t != "" {
			out = append(out, t)
		}
	}
	slices.Reverse(out)
	return out
}

// lastLogs are the last n log lines of each service that failed, for
// `unit status` to show under its row.
func (d *Daemon) lastLogs(sts []supervise.Status, n int) map[string][]string {
	var out map[string][]string
	for _, st := range sts {
		if !st.Failed() {
			continue
		}
		log, _ := d.sup.Logs(st.Name, n+10)
		if lines := lastLines(log, n); len(lines) > 0 {
			if out == nil {
				out = map[string][]string{}
			}
			out[st.Name] = lines
		}
	}
	return out
}

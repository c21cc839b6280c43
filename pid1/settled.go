package pid1

import (
	"fmt"
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
		case api.ServiceUp(st):
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

// bootSummary is the console's line once the boot has settled, after
// every service's own line: all up, or how many of how many and what the
// others are doing. sinceKernel and sinceInit are seconds.
func bootSummary(up int, down []string, sinceKernel, sinceInit float64) string {
	if len(down) == 0 {
		return fmt.Sprintf("all %d services running %.2fs after kernel start (%.0f ms after /init)", up, sinceKernel, sinceInit*1000)
	}
	return fmt.Sprintf("%d of %d services running; %s (%.2fs after kernel start)", up, up+len(down), strings.Join(down, ", "), sinceKernel)
}

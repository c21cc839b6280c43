package cm

import (
	"fmt"
	"strings"
	"time"
)

// Report is the outcome of one convergence (or, with DryRun, what one would do).
type Report struct {
	Changes   []Change      `json:"changes,omitempty"`
	Unchanged int           `json:"unchanged"`
	Failed    int           `json:"failed"`
	Duration  time.Duration `json:"duration"`
	DryRun    bool          `json:"dry_run,omitempty"`
}

// Change is what happened to one resource; Err is set when it failed.
type Change struct {
	Resource string   `json:"resource"`
	What     []string `json:"what,omitempty"`
	Err      string   `json:"error,omitempty"`
}

// Changed counts resources (and restarts) that changed, or would with DryRun.
func (r *Report) Changed() int {
	n := 0
	for _, c := range r.Changes {
		if c.Err == "" {
			n++
		}
	}
	return n
}

// String prints one line per change ("file:/etc/x: mode 0600 -> 0644") and
// a totals line.
func (r *Report) String() string {
	var b strings.Builder
	for _, c := range r.Changes {
		for _, w := range c.What {
			fmt.Fprintf(&b, "%s: %s\n", c.Resource, w)
		}
		if c.Err != "" {
			fmt.Fprintf(&b, "%s: failed: %s\n", c.Resource, c.Err)
		}
	}
	verb := "changed"
	if r.DryRun {
		verb = "to change (dry run)"
	}
	fmt.Fprintf(&b, "%d %s, %d unchanged, %d failed in %s\n",
		r.Changed(), verb, r.Unchanged, r.Failed, r.Duration.Round(time.Microsecond))
	return b.String()
}

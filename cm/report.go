package cm

import (
	"fmt"
	"strings"
	"time"
)

// Report is the outcome of one convergence (or, with DryRun, what one would do).
type Report struct {
	Time    time.Time `json:"time"`
	Trigger string    `json:"trigger,omitempty"` // config, drift, apply, once, retry
	Changes []Change  `json:"changes,omitempty"`
	// Totals. Changed counts resources and refreshes (restarts, notified
	// execs) that changed or, in a dry run, would.
	Unchanged int           `json:"unchanged"`
	Failed    int           `json:"failed"`
	Skipped   int           `json:"skipped,omitempty"`
	Drifted   int           `json:"drifted,omitempty"` // audit: out of sync, left alone
	Duration  time.Duration `json:"duration"`
	DryRun    bool          `json:"dry_run,omitempty"`
	// Fights names resources someone keeps rewriting, with their backoff.
	Fights []Fight `json:"fights,omitempty"`
	// ConfigError is set when the last config change was rejected: the last
	// good config keeps running.
	ConfigError string `json:"config_error,omitempty"`
}

// Change is what happened to one resource; Err is set when it failed.
type Change struct {
	Resource string `json:"resource"`
	// From is where the resource was declared outside unit's files (a
	// tmpfiles.d line): a failure names it.
	From     string        `json:"from,omitempty"`
	Result   string        `json:"result"` // changed, repaired, removed, drift, would change, refreshed, failed, skipped
	What     []string      `json:"what,omitempty"`
	Deltas   []Delta       `json:"deltas,omitempty"`
	Diff     string        `json:"diff,omitempty"` // dry run: unified diff of the content
	Duration time.Duration `json:"duration"`
	Err      string        `json:"error,omitempty"`
}

// Changed counts resources (and refreshes) that changed, or would with DryRun.
func (r *Report) Changed() int {
	n := 0
	for _, c := range r.Changes {
		if c.Err == "" && c.Result != "drift" {
			n++
		}
	}
	return n
}

// String prints one line per change ("file:/etc/x: mode 0600 -> 0644"),
// diffs in a dry run, and a totals line.
func (r *Report) String() string {
	var b strings.Builder
	if r.ConfigError != "" {
		fmt.Fprintf(&b, "config error (last good config still running):\n%s\n", r.ConfigError)
	}
	for _, c := range r.Changes {
		for _, w := range c.What {
			if c.Result == "drift" {
				fmt.Fprintf(&b, "%s: drift (audit, not repaired): %s\n", c.Resource, w)
			} else {
				fmt.Fprintf(&b, "%s: %s\n", c.Resource, w)
			}
		}
		if c.Diff != "" {
			b.WriteString(c.Diff)
		}
		if c.Err != "" && c.From != "" {
			fmt.Fprintf(&b, "%s (from %s): %s: %s\n", c.Resource, c.From, c.Result, c.Err)
		} else if c.Err != "" {
			fmt.Fprintf(&b, "%s: %s: %s\n", c.Resource, c.Result, c.Err)
		}
	}
	for _, f := range r.Fights {
		fmt.Fprintf(&b, "%s: fight: %s\n", f.Resource, f.String())
	}
	verb := "changed"
	if r.DryRun {
		verb = "to change (dry run)"
	}
	fmt.Fprintf(&b, "%d %s, %d unchanged, %d failed", r.Changed(), verb, r.Unchanged, r.Failed)
	if r.Skipped > 0 {
		fmt.Fprintf(&b, ", %d skipped", r.Skipped)
	}
	if r.Drifted > 0 {
		fmt.Fprintf(&b, ", %d drifted (audit)", r.Drifted)
	}
	fmt.Fprintf(&b, " in %s\n", r.Duration.Round(time.Microsecond))
	return b.String()
}

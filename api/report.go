package api

import "time"

// Report answers `apply`: one convergence, as cm.Report says it. The
// daemon converts the engine's report to it, and `unit apply` back to
// print it; Change, Delta and Fight are cm's field for field.
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
	Resource string        `json:"resource"`
	From     string        `json:"from,omitempty"` // where a declared resource was declared (FILE:LINE)
	Result   string        `json:"result"`         // changed, repaired, removed, drift, would change, refreshed, failed, skipped
	What     []string      `json:"what,omitempty"`
	Deltas   []Delta       `json:"deltas,omitempty"`
	Diff     string        `json:"diff,omitempty"` // dry run: unified diff of the content
	Duration time.Duration `json:"duration"`
	Err      string        `json:"error,omitempty"`
}

// Delta is one attribute's change: old and new value.
type Delta struct {
	Attr string `json:"attr"`
	Old  string `json:"old,omitempty"`
	New  string `json:"new,omitempty"`
}

// Fight is a resource someone else keeps rewriting, and the engine's
// backoff on repairing it.
type Fight struct {
	Resource string        `json:"resource"`
	Repairs  int           `json:"repairs"` // drift repairs within the window
	Backoff  time.Duration `json:"backoff"`
	Until    time.Time     `json:"until"` // next repair not before
}

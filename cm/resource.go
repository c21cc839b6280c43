package cm

import "context"

// Resource is one piece of desired state, in the shape of mgmt's
// Watch/CheckApply: the engine owns watching (one inotify instance for all),
// so a resource only says which paths matter to it.
type Resource interface {
	// ID is "KIND:NAME", e.g. "file:/etc/motd".
	ID() string
	// Watches lists absolute paths whose change (as seen by inotify on their
	// parent directory) makes the resource dirty.
	Watches() []string
	// Check reports what is out of sync, without changing anything; empty
	// means in sync.
	Check(ctx context.Context) ([]Delta, error)
	// Apply makes the resource so and reports what it really changed; it
	// changes nothing (and returns nothing) when already in sync.
	Apply(ctx context.Context) ([]Delta, error)
	// Notifies lists ids ("service:web", "exec:reload") to refresh after a
	// real change.
	Notifies() []string
	// Same reports whether other has the same desired state, so a config
	// reload touches only what changed.
	Same(other Resource) bool
}

// Delta is one attribute out of sync: old is what the system has, new what
// the config wants. Whole-resource changes ("created") have no values.
type Delta struct {
	Attr string `json:"attr"`
	Old  string `json:"old,omitempty"`
	New  string `json:"new,omitempty"`
}

func (d Delta) String() string {
	if d.Old == "" && d.New == "" {
		return d.Attr
	}
	return d.Attr + " " + orNone(d.Old) + " -> " + orNone(d.New)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func delta(attr, old, new string) Delta { return Delta{Attr: attr, Old: old, New: new} }

func deltaStrings(ds []Delta) []string {
	if len(ds) == 0 {
		return nil
	}
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.String()
	}
	return out
}

// Optional behaviours a resource may have.
type (
	// refresher is a notify target: a service restarts, an exec runs.
	refresher interface {
		Refresh(ctx context.Context) ([]Delta, error)
	}
	// restarter is a refresher that restarts a process the supervisor
	// owns (a service): a change of its own in a pass already started it
	// on the new state, so that pass does not restart it on top; the
	// supervisor reports the restart, so the engine emits no event for it
	// and it notifies nothing further.
	restarter interface {
		Restarts() bool
	}
	// longRunner may take minutes to converge or refresh (an exec's
	// command): the loop's passes leave it, and what depends on it, to
	// the background lane (background.go).
	longRunner interface {
		RunsLong() bool
	}
	// retrier is tried again on a timer after it failed (a net resource):
	// what it waits for, a DHCP server or a link, comes back without an
	// inotify event (retry.go).
	retrier interface {
		RetriesOnFailure() bool
	}
	// factsReader renders the facts (a template): new facts make it dirty
	// although its desired state is the same (take.go).
	factsReader interface {
		ReadsFacts() bool
	}
	// purger removes the thing when its resource leaves the config.
	purger interface {
		Purge(ctx context.Context) ([]Delta, error)
	}
	// differ shows a content change as a unified diff (dry run).
	differ interface {
		Diff(ctx context.Context) (string, error)
	}
	// dirWatcher is dirty on any change inside the directories it lists
	// (a dir that purges unmanaged entries).
	dirWatcher interface {
		WatchDirs() []string
	}
	// edged declares edges of its own beyond the config's requires/notify:
	// ids that must converge first.
	edged interface {
		After() []string
	}
	// pathed resources get automatic edges from their ancestors and owners.
	pathed interface {
		Path() string
		Owners() (user, group string)
	}
)

// sweeper removes the entries of a directory that no other resource
// manages (a dir with purge_unmanaged, a tmpfile): once every resource of
// the plan exists, SetManaged tells it their base names in SweepDir, which
// is "" when it sweeps nothing.
type sweeper interface {
	SweepDir() string
	SetManaged(names map[string]bool)
}

// manyPathed manages paths beyond its own (a package's links): a sweeper
// of their directory keeps them.
type manyPathed interface {
	ManagedPaths() []string
}

// Words for whole-resource changes that the engine turns into event states.
const (
	whatCreated = "created"
	whatRemoved = "removed"
)

// The traits as predicates: false for a resource without the trait (or
// none at all).
func restarts(r Resource) bool   { t, ok := r.(restarter); return ok && t.Restarts() }
func runsLong(r Resource) bool   { t, ok := r.(longRunner); return ok && t.RunsLong() }
func retried(r Resource) bool    { t, ok := r.(retrier); return ok && t.RetriesOnFailure() }
func readsFacts(r Resource) bool { t, ok := r.(factsReader); return ok && t.ReadsFacts() }

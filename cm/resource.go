package cm

import (
	"context"
	"strings"
)

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
	// purger removes the thing when its resource leaves the config.
	purger interface {
		Purge(ctx context.Context) ([]Delta, error)
	}
	// differ shows a content change as a unified diff (dry run).
	differ interface {
		Diff() (string, error)
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

// kindOf returns the KIND of an id.
func kindOf(id string) string {
	k, _, _ := strings.Cut(id, ":")
	return k
}

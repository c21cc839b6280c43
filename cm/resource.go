package cm

import (
	"context"

	"unit/config"
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
	// means in sync. The words are the ones Apply would report.
	Check(ctx context.Context) ([]string, error)
	// Apply makes the resource so and reports what it really changed; it
	// changes nothing (and returns nothing) when already in sync.
	Apply(ctx context.Context) ([]string, error)
	// Notifies lists ids ("service:web") to restart after a real change.
	Notifies() []string
	// Same reports whether other has the same desired state, so a config
	// reload touches only what changed.
	Same(other Resource) bool
}

// Words for whole-resource changes that the engine turns into event states.
const (
	whatCreated = "created"
	whatRemoved = "removed"
)

// buildResources turns a validated config into resources, keyed by id.
func buildResources(cfg *config.Config) map[string]Resource {
	out := make(map[string]Resource, len(cfg.Files))
	for _, p := range cfg.FilePaths() {
		r := newFile(cfg.Files[p])
		out[r.ID()] = r
	}
	return out
}

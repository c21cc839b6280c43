package cm

import (
	"path/filepath"

	"github.com/unit-os/unit/config"
)

// plan is a config turned into resources and their graph.
type plan struct {
	res   map[string]Resource
	g     *graph
	audit map[string]bool // reports drift, never repairs (only true entries)
	purge map[string]bool // removed from the system when dropped from the config (only true entries)
	// from is where a resource was declared outside unit's files (its
	// from key), for the report.
	from map[string]string
}

// builder is what a kind's constructor gets: the whole config, the env,
// and what several resources derive from the config (built on first use).
type builder struct {
	cfg         *config.Config
	env         *env
	memberships map[string][]string // group -> users listing it (group.go)
	from        map[string]string   // plan.from
}

// buildPlan turns a validated config into resources, keyed by id, and the
// dependency graph. Its error is a config error (a cycle made with the
// automatic edges), with file:line.
func buildPlan(cfg *config.Config, en *env) (*plan, error) {
	p := &plan{res: map[string]Resource{}, audit: map[string]bool{}, purge: map[string]bool{}, from: map[string]string{}}
	put := func(r Resource, audit, purge bool) {
		p.res[r.ID()] = r
		if audit || cfg.CM.Audit {
			p.audit[r.ID()] = true
		}
		if purge || cfg.CM.Purge {
			p.purge[r.ID()] = true
		}
	}
	b := &builder{cfg: cfg, env: en, from: p.from}
	for _, k := range planKinds {
		k(b, put)
	}
	// Sweepers last: what they keep is what every other resource manages.
	for _, r := range p.res {
		if s, ok := r.(sweeper); ok {
			if dir := s.SweepDir(); dir != "" {
				s.SetManaged(managedIn(p.res, dir))
			}
		}
	}
	g, err := buildGraph(cfg, p.res)
	if err != nil {
		return nil, err
	}
	p.g = g
	return p, nil
}

// planKind adds the resources of one config kind to a plan.
type planKind func(b *builder, put func(r Resource, audit, purge bool))

// each makes the planKind of a kind from its constructor: a resource for
// every table, with the table's own audit and purge.
func each[T any, P interface {
	*T
	config.Resource
}, R Resource](newR func(P, *builder) R) planKind {
	return func(b *builder, put func(Resource, bool, bool)) {
		for _, v := range config.All[T, P](b.cfg) {
			var audit, purge bool
			if m, ok := any(v).(interface{ Modes() (bool, bool) }); ok {
				audit, purge = m.Modes()
			}
			r := newR(v, b)
			if o, ok := any(v).(interface{ Origin() string }); ok && o.Origin() != "" && b.from != nil {
				b.from[r.ID()] = o.Origin()
			}
			put(r, audit, purge)
		}
	}
}

// managedIn lists the base names directly in dir that resources manage:
// their paths, or the first path component below dir of deeper ones.
func managedIn(res map[string]Resource, dir string) map[string]bool {
	out := map[string]bool{}
	note := func(path string) {
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." || rel == ".." || len(rel) > 2 && rel[:3] == "../" {
			return
		}
		first := rel
		if i := indexSep(rel); i >= 0 {
			first = rel[:i]
		}
		out[first] = true
	}
	for _, r := range res {
		if pr, ok := r.(pathed); ok {
			note(pr.Path())
		}
		if mp, ok := r.(manyPathed); ok {
			for _, path := range mp.ManagedPaths() {
				note(path)
			}
		}
	}
	return out
}

func indexSep(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

// Validate checks what only the engine knows: that the graph, with its
// automatic edges, has no cycle. `unit check` runs it after config.Load.
func Validate(cfg *config.Config) error {
	_, err := buildPlan(cfg, defaultEnv())
	return err
}

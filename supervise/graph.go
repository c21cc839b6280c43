package supervise

import (
	"maps"
	"slices"
)

// graph is the requires order and its reverse, derived from the services
// and their configs. The loop consults it after every message, so it is
// built once per config change, not per pass: with 1,000 services a
// per-pass sort made shutdown quadratic in sorts (over a minute).
type graph struct {
	names      []string              // sorted
	order      []*service            // what a service requires comes first
	dependents map[string][]*service // name -> services that require it, by name
}

// invalidate drops the graph; call it whenever services or their requires change.
func (s *Supervisor) invalidate() { s.graphCache = nil }

func (s *Supervisor) graph() *graph {
	if s.graphCache != nil {
		return s.graphCache
	}
	g := &graph{names: slices.Sorted(maps.Keys(s.services)), dependents: map[string][]*service{}}
	seen := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		v := s.services[name]
		if v == nil || seen[name] {
			return
		}
		seen[name] = true // before the requirements: a cycle cannot recurse forever
		for _, r := range v.cfg.Requires {
			visit(serviceName(r))
		}
		v.ord = len(g.order)
		g.order = append(g.order, v)
	}
	for _, name := range g.names {
		visit(name)
		v := s.services[name]
		for _, r := range v.cfg.Requires {
			d := serviceName(r)
			g.dependents[d] = append(g.dependents[d], v)
		}
	}
	s.graphCache = g
	return g
}

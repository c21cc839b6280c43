package config

import (
	"fmt"
	"slices"
	"strings"
)

// ResourceEdges is one resource's explicit edges, for the engine's graph.
type ResourceEdges struct {
	ID       string
	Requires []string // converged before ID
	Notify   []string // refreshed after ID really changed
	// At gives the file:line of a key of the resource ("requires", "notify").
	At func(key string) Pos
}

// AllEdges lists every resource's explicit edges, sorted by id.
func (c *Config) AllEdges() []ResourceEdges {
	var out []ResourceEdges
	for _, k := range rows().kinds {
		out = append(out, k.edges(c)...)
	}
	slices.SortFunc(out, func(a, b ResourceEdges) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// ExplicitEdges lists the edges of every resource that has some, sorted
// by id: AllEdges without the resources that have none, most of a large
// config, which cost the engine's graph a closure each.
func (c *Config) ExplicitEdges() []ResourceEdges {
	var out []ResourceEdges
	for _, k := range rows().kinds {
		k.eachEdges(c, func(id string, requires, notify []string) {
			r, _ := edgedResource(c, id)
			out = append(out, ResourceEdges{ID: id, Requires: requires, Notify: notify, At: r.meta().At})
		})
	}
	slices.SortFunc(out, func(a, b ResourceEdges) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// EdgedAt is At of the resource id names, if it is defined and of a kind
// with edges (one AllEdges lists); nil if not.
func (c *Config) EdgedAt(id string) func(key string) Pos {
	if r, ok := edgedResource(c, id); ok {
		return r.meta().At
	}
	return nil
}

// checkRequires: every id a resource requires is defined.
func checkRequires(c *Config, m *Meta, requires []string) Errors {
	var errs Errors
	for _, r := range requires {
		if strings.HasPrefix(r, "check:") && c.Has(r) {
			errs = append(errs, Error{m.At("requires"), fmt.Sprintf("%s requires %q: a check is a question to the running system, not something to converge after", m.ID(), r)})
			continue
		}
		if !c.Has(r) {
			errs = append(errs, Error{m.At("requires"), fmt.Sprintf("%s requires %q, which is not defined (expected KIND:NAME, e.g. \"dir:/srv\")", m.ID(), r)})
		}
	}
	return errs
}

// checkNotify: every notify target is defined and can be refreshed.
func checkNotify(c *Config, m *Meta, notify []string) Errors {
	var errs Errors
	for _, n := range notify {
		switch {
		case !Refreshable(n):
			errs = append(errs, Error{m.At("notify"), fmt.Sprintf("%s: notify %q: expected service:NAME or exec:NAME", m.ID(), n)})
		case !c.Has(n):
			errs = append(errs, Error{m.At("notify"), fmt.Sprintf("%s notifies %q, which is not defined", m.ID(), n)})
		}
	}
	return errs
}

// edgeCycle finds a cycle in the explicit edges of all kinds together;
// cycles among services alone are serviceCycle's to report. Only a
// resource with a successor can be on a cycle, so only those are roots of
// the search (in id order, as all resources were): the others are most of
// a config, and cost nothing here.
func edgeCycle(c *Config) Errors {
	before := map[string][]string{}
	for _, k := range rows().kinds {
		k.eachEdges(c, func(id string, requires, notify []string) {
			for _, r := range requires {
				if !strings.HasPrefix(id, "service:") || !strings.HasPrefix(r, "service:") {
					before[r] = append(before[r], id)
				}
			}
			for _, n := range notify {
				before[id] = append(before[id], n)
			}
		})
	}
	var ids []string
	for id := range before {
		if edged(c, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	cyc := FindCycle(ids, func(id string) []string { return before[id] })
	if cyc == nil {
		return nil
	}
	pos := Pos{}
	if r, ok := edgedResource(c, cyc[0]); ok {
		pos = r.meta().At("")
	}
	return Errors{{pos, "dependency cycle: " + strings.Join(cyc, " -> ")}}
}

// edged reports whether id is a defined resource of a kind with edges.
func edged(c *Config, id string) bool {
	_, ok := edgedResource(c, id)
	return ok
}

// edgedResource is the resource id names, if it is defined and of a kind
// with edges.
func edgedResource(c *Config, id string) (Resource, bool) {
	kind, name, _ := strings.Cut(id, ":")
	k, ok := rows().byKind[kind]
	if !ok || !k.edged() {
		return nil, false
	}
	return k.resource(c, name)
}

// FindCycle returns one cycle of the graph (first id repeated at the end),
// or nil. next lists a node's successors; nodes are visited in the order
// given and successors in sorted order, so the answer is deterministic.
func FindCycle(nodes []string, next func(string) []string) []string {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var visit func(id string) []string
	visit = func(id string) []string {
		color[id] = grey
		stack = append(stack, id)
		succ := next(id)
		if len(succ) > 1 { // sorted, as a copy: next's slice is the caller's
			succ = slices.Sorted(slices.Values(succ))
		}
		for _, s := range succ {
			switch color[s] {
			case grey:
				for i, x := range stack {
					if x == s {
						return append(append([]string{}, stack[i:]...), s)
					}
				}
			case white:
				if cyc := visit(s); cyc != nil {
					return cyc
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[id] = black
		return nil
	}
	for _, id := range nodes {
		if color[id] == white {
			if cyc := visit(id); cyc != nil {
				return cyc
			}
		}
	}
	return nil
}

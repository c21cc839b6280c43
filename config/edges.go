package config

import (
	"fmt"
	"path/filepath"
	"sort"
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
	add := func(id string, e Edges, at func(string) Pos) {
		out = append(out, ResourceEdges{ID: id, Requires: e.Requires, Notify: e.Notify, At: at})
	}
	for _, n := range sortedKeys(c.Services) {
		s := c.Services[n]
		at := s.at
		if at == nil {
			at = func(string) Pos { return s.Pos }
		}
		req := s.Requires
		if len(s.After) > 0 {
			req = append(append([]string{}, s.Requires...), s.After...)
		}
		out = append(out, ResourceEdges{ID: s.ID(), Requires: req, At: at})
	}
	for _, p := range sortedKeys(c.Files) {
		f := c.Files[p]
		out = append(out, ResourceEdges{ID: f.ID(), Requires: f.Requires, Notify: f.Notify, At: f.At})
	}
	for _, k := range sortedKeys(c.Dirs) {
		add("dir:"+k, c.Dirs[k].Edges, c.Dirs[k].At)
	}
	for _, k := range sortedKeys(c.Links) {
		add("link:"+k, c.Links[k].Edges, c.Links[k].At)
	}
	for _, k := range sortedKeys(c.Users) {
		add("user:"+k, c.Users[k].Edges, c.Users[k].At)
	}
	for _, k := range sortedKeys(c.Groups) {
		add("group:"+k, c.Groups[k].Edges, c.Groups[k].At)
	}
	for _, k := range sortedKeys(c.Sysctls) {
		add("sysctl:"+k, c.Sysctls[k].Edges, c.Sysctls[k].At)
	}
	for _, k := range sortedKeys(c.Modules) {
		add("module:"+k, c.Modules[k].Edges, c.Modules[k].At)
	}
	for _, k := range sortedKeys(c.Mounts) {
		add("mount:"+k, c.Mounts[k].Edges, c.Mounts[k].At)
	}
	for _, k := range sortedKeys(c.Packages) {
		add("package:"+k, c.Packages[k].Edges, c.Packages[k].At)
	}
	for _, k := range sortedKeys(c.Execs) {
		add("exec:"+k, c.Execs[k].Edges, c.Execs[k].At)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// validateKindRefs checks the edges of every resource but services (whose
// requires validateRefs checks): targets exist, notify targets can be
// refreshed, and the explicit edges have no cycle.
func validateKindRefs(c *Config) Errors {
	var errs Errors
	all := c.AllEdges()
	for _, e := range all {
		if strings.HasPrefix(e.ID, "service:") {
			continue
		}
		for _, r := range e.Requires {
			if !c.Has(r) {
				errs = append(errs, Error{e.At("requires"), fmt.Sprintf("%s requires %q, which is not defined (expected KIND:NAME, e.g. \"dir:/srv\")", e.ID, r)})
			}
		}
		if d, ok := c.Dirs[strings.TrimPrefix(e.ID, "dir:")]; ok && strings.HasPrefix(e.ID, "dir:") {
			if name, ok := strings.CutPrefix(d.Source, "package:"); ok {
				name, _, _ = strings.Cut(name, "/")
				if _, ok := c.Packages[name]; !ok {
					errs = append(errs, Error{e.At("source"), fmt.Sprintf("%s: source %q: package %q is not defined", e.ID, d.Source, name)})
				}
			}
		}
		if strings.HasPrefix(e.ID, "file:") {
			f := c.Files[strings.TrimPrefix(e.ID, "file:")]
			if name, ok := strings.CutPrefix(f.Source, "package:"); ok {
				name, _, _ = strings.Cut(name, "/")
				if _, ok := c.Packages[name]; !ok {
					errs = append(errs, Error{e.At("source"), fmt.Sprintf("%s: source %q: package %q is not defined", e.ID, f.Source, name)})
				}
			} else if f.Source != "" && !filepath.IsAbs(f.Source) {
				errs = append(errs, Error{e.At("source"), fmt.Sprintf("%s: source %q: expected an absolute path or package:NAME/PATH", e.ID, f.Source)})
			}
			continue // validateRefs checks a file's notify
		}
		for _, n := range e.Notify {
			switch {
			case !Refreshable(n):
				errs = append(errs, Error{e.At("notify"), fmt.Sprintf("%s: notify %q: expected service:NAME or exec:NAME", e.ID, n)})
			case !c.Has(n):
				errs = append(errs, Error{e.At("notify"), fmt.Sprintf("%s notifies %q, which is not defined", e.ID, n)})
			}
		}
	}
	// Service-only cycles are validateRefs' to report.
	before := map[string][]string{}
	at := map[string]func(string) Pos{}
	for _, e := range all {
		at[e.ID] = e.At
		for _, r := range e.Requires {
			if !strings.HasPrefix(e.ID, "service:") || !strings.HasPrefix(r, "service:") {
				before[r] = append(before[r], e.ID)
			}
		}
		for _, n := range e.Notify {
			before[e.ID] = append(before[e.ID], n)
		}
	}
	ids := make([]string, 0, len(all))
	for _, e := range all {
		ids = append(ids, e.ID)
	}
	if cyc := FindCycle(ids, func(id string) []string { return before[id] }); cyc != nil {
		pos := Pos{}
		if a := at[cyc[0]]; a != nil {
			pos = a("")
		}
		errs = append(errs, Error{pos, "dependency cycle: " + strings.Join(cyc, " -> ")})
	}
	return errs
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
		succ := append([]string(nil), next(id)...)
		sort.Strings(succ)
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

package cm

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/unit-os/unit/config"
)

// graph is the dependency graph: an edge a → b means a converges before b
// (b requires a, a notifies b, or an automatic edge such as a file's
// parent directory or owner).
type graph struct {
	order []string       // every id, topologically sorted (ties by id)
	pos   map[string]int // index in order
	preds map[string][]string
	succs map[string][]string
}

// buildGraph adds the config's explicit edges and the automatic ones, and
// fails with the file:line of a resource on a cycle, naming it.
func buildGraph(cfg *config.Config, res map[string]Resource) (*graph, error) {
	g := &graph{pos: map[string]int{}, preds: map[string][]string{}, succs: map[string][]string{}}
	seen := map[[2]string]bool{}
	add := func(a, b string) {
		if a == b || res[a] == nil || res[b] == nil || seen[[2]string{a, b}] {
			return
		}
		seen[[2]string{a, b}] = true
		g.succs[a] = append(g.succs[a], b)
		g.preds[b] = append(g.preds[b], a)
	}
	for _, e := range cfg.ExplicitEdges() {
		for _, r := range e.Requires {
			add(r, e.ID)
		}
		for _, n := range e.Notify {
			add(e.ID, n)
		}
	}
	ids := slices.Sorted(maps.Keys(res))
	anc := ancestors{res: res, near: map[string][]string{}}
	for _, id := range ids {
		r := res[id]
		if ed, ok := r.(edged); ok {
			for _, a := range ed.After() {
				add(a, id)
			}
		}
		if p, ok := r.(pathed); ok {
			autoPathEdges(res, &anc, id, p, add)
		}
	}
	chainAccounts(ids, add)
	if cyc := config.FindCycle(ids, func(id string) []string { return g.succs[id] }); cyc != nil {
		pos := config.Pos{}
		if a := cfg.EdgedAt(cyc[0]); a != nil {
			pos = a("")
		}
		return nil, config.Errors{{Pos: pos, Msg: "dependency cycle (with automatic edges): " + strings.Join(cyc, " -> ")}}
	}
	g.sort(ids)
	return g, nil
}

// chainAccounts orders every group, then every user, by id: they share
// three files, and allocating ids or appending lines in a fixed order is
// what makes the files deterministic.
func chainAccounts(ids []string, add func(a, b string)) {
	prev := ""
	for _, kind := range []string{"group:", "user:"} {
		for _, id := range ids {
			if strings.HasPrefix(id, kind) {
				if prev != "" {
					add(prev, id)
				}
				prev = id
			}
		}
	}
}

// autoPathEdges: the nearest managed ancestor directory (or tmpfile, or
// mount) comes first, so does a mount's own directory, and so do the owner
// and group.
func autoPathEdges(res map[string]Resource, anc *ancestors, id string, p pathed, add func(a, b string)) {
	path := p.Path()
	if strings.HasPrefix(id, "mount:") {
		add("dir:"+path, id)
	}
	for _, a := range anc.of(filepath.Dir(path)) {
		add(a, id)
	}
	user, group := p.Owners()
	if user != "" {
		add("user:"+user, id)
	}
	if group != "" {
		add("group:"+group, id)
	}
}

// ancestors finds the resources managing the nearest managed directory at
// or above a directory: the same for every path in it, so each directory
// is walked once (1,000 files in ten directories: ten walks, not a
// thousand), and the ids are looked up without being built.
type ancestors struct {
	res  map[string]Resource
	near map[string][]string // by directory
	buf  []byte
}

var pathKinds = []string{"dir:", "tmpfile:", "mount:", "link:"}

func (a *ancestors) of(dir string) []string {
	if ids, ok := a.near[dir]; ok {
		return ids
	}
	var ids []string
	for d := dir; ; d = filepath.Dir(d) {
		for _, k := range pathKinds {
			a.buf = append(append(a.buf[:0], k...), d...)
			if a.res[string(a.buf)] != nil {
				ids = append(ids, k+d)
			}
		}
		if ids != nil || d == "/" || d == "." {
			break
		}
	}
	a.near[dir] = ids
	return ids
}

// sort computes a topological order with Kahn's algorithm, smallest id
// first among the ready ones, so the order is deterministic.
func (g *graph) sort(ids []string) {
	indeg := map[string]int{}
	for _, id := range ids {
		if n := len(g.preds[id]); n > 0 { // most have none: not a map entry each
			indeg[id] = n
		}
	}
	ready := &strHeap{}
	for _, id := range ids {
		if indeg[id] == 0 {
			ready.push(id)
		}
	}
	for len(*ready) > 0 {
		id := ready.pop()
		g.pos[id] = len(g.order)
		g.order = append(g.order, id)
		for _, s := range g.succs[id] {
			if indeg[s]--; indeg[s] == 0 {
				ready.push(s)
			}
		}
	}
}

// dirtyDeps returns, for each id in dirty, the dirty ids it must wait for:
// the nearest dirty ancestors (through clean ones, which are not run).
// An id that waits for none has no entry (most, in a large config).
func (g *graph) dirtyDeps(dirty map[string]bool) map[string][]string {
	out := map[string][]string{}
	for id := range dirty {
		if len(g.preds[id]) == 0 {
			continue
		}
		var deps []string
		seen := map[string]bool{}
		stack := append([]string(nil), g.preds[id]...)
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[p] {
				continue
			}
			seen[p] = true
			if dirty[p] {
				deps = append(deps, p)
				continue
			}
			stack = append(stack, g.preds[p]...)
		}
		if len(deps) > 0 {
			out[id] = deps
		}
	}
	return out
}

// strHeap is a min-heap of ids; typed, where container/heap would box
// every id it holds into an interface.
type strHeap []string

func (h *strHeap) push(s string) {
	*h = append(*h, s)
	a := *h
	for i := len(a) - 1; i > 0; {
		parent := (i - 1) / 2
		if a[parent] <= a[i] {
			break
		}
		a[parent], a[i] = a[i], a[parent]
		i = parent
	}
}

func (h *strHeap) pop() string {
	a := *h
	top, n := a[0], len(a)-1
	a[0] = a[n]
	a = a[:n]
	for i := 0; ; {
		least := i
		for _, c := range []int{2*i + 1, 2*i + 2} {
			if c < n && a[c] < a[least] {
				least = c
			}
		}
		if least == i {
			break
		}
		a[i], a[least] = a[least], a[i]
		i = least
	}
	*h = a
	return top
}

package cm

import (
	"container/heap"
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
	at := map[string]func(string) config.Pos{}
	for _, e := range cfg.AllEdges() {
		at[e.ID] = e.At
		for _, r := range e.Requires {
			add(r, e.ID)
		}
		for _, n := range e.Notify {
			add(e.ID, n)
		}
	}
	ids := slices.Sorted(maps.Keys(res))
	for _, id := range ids {
		r := res[id]
		if ed, ok := r.(edged); ok {
			for _, a := range ed.After() {
				add(a, id)
			}
		}
		if p, ok := r.(pathed); ok {
			autoPathEdges(res, id, p, add)
		}
	}
	chainAccounts(ids, add)
	if cyc := config.FindCycle(ids, func(id string) []string { return g.succs[id] }); cyc != nil {
		pos := config.Pos{}
		if a := at[cyc[0]]; a != nil {
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
func autoPathEdges(res map[string]Resource, id string, p pathed, add func(a, b string)) {
	path := p.Path()
	if strings.HasPrefix(id, "mount:") {
		add("dir:"+path, id)
	}
	for d := filepath.Dir(path); ; d = filepath.Dir(d) {
		found := false
		for _, k := range []string{"dir:", "tmpfile:", "mount:", "link:"} {
			if res[k+d] != nil {
				add(k+d, id)
				found = true
			}
		}
		if found || d == "/" || d == "." {
			break
		}
	}
	user, group := p.Owners()
	if user != "" {
		add("user:"+user, id)
	}
	if group != "" {
		add("group:"+group, id)
	}
}

// sort computes a topological order with Kahn's algorithm, smallest id
// first among the ready ones, so the order is deterministic.
func (g *graph) sort(ids []string) {
	indeg := map[string]int{}
	for _, id := range ids {
		indeg[id] = len(g.preds[id])
	}
	ready := &strHeap{}
	for _, id := range ids {
		if indeg[id] == 0 {
			heap.Push(ready, id)
		}
	}
	for ready.Len() > 0 {
		id := heap.Pop(ready).(string)
		g.pos[id] = len(g.order)
		g.order = append(g.order, id)
		for _, s := range g.succs[id] {
			if indeg[s]--; indeg[s] == 0 {
				heap.Push(ready, s)
			}
		}
	}
}

// dirtyDeps returns, for each id in dirty, the dirty ids it must wait for:
// the nearest dirty ancestors (through clean ones, which are not run).
func (g *graph) dirtyDeps(dirty map[string]bool) map[string][]string {
	out := make(map[string][]string, len(dirty))
	for id := range dirty {
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
		out[id] = deps
	}
	return out
}

type strHeap []string

func (h strHeap) Len() int           { return len(h) }
func (h strHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h strHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *strHeap) Push(x any)        { *h = append(*h, x.(string)) }
func (h *strHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

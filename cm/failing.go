package cm

import "sort"

// Failing is a resource whose last convergence failed, with why.
type Failing struct {
	Resource string `json:"resource"`
	Error    string `json:"error"`
}

// noteOutcomes keeps the set of failing resources current after a real
// (not dry) pass: a failure or a skip adds, a success removes, and a
// resource the config no longer has is forgotten.
func (e *Engine) noteOutcomes(p *plan, outs []*outcome) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.failing == nil {
		e.failing = map[string]string{}
	}
	for _, o := range outs {
		switch {
		case o.err != nil:
			e.failing[o.id] = o.err.Error()
		case o.skip != "":
			e.failing[o.id] = "dependency " + o.skip + " failed"
		default:
			delete(e.failing, o.id)
		}
	}
	for id := range e.failing {
		if p.res[id] == nil {
			delete(e.failing, id)
		}
	}
}

// Failing lists the resources whose last convergence failed, by id.
func (e *Engine) Failing() []Failing {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Failing, 0, len(e.failing))
	for id, err := range e.failing {
		out = append(out, Failing{Resource: id, Error: err})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Resource < out[j].Resource })
	return out
}

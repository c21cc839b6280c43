package cm

import "slices"

// pathIndex maps a watched path to the ids of the resources that watch it.
// Nearly every path has exactly one; keeping that one as a plain string
// (and only the rare shared paths as slices) saves a slice allocation and
// header per managed file, about 40 bytes each with 10,000 files.
type pathIndex struct {
	one  map[string]string
	more map[string][]string // paths with two or more ids; not in one
}

func newPathIndex() pathIndex {
	return pathIndex{one: map[string]string{}, more: map[string][]string{}}
}

// ids calls f for each id watching p.
func (x pathIndex) ids(p string, f func(id string)) {
	if id, ok := x.one[p]; ok {
		f(id)
		return
	}
	for _, id := range x.more[p] {
		f(id)
	}
}

func (x pathIndex) add(p, id string) {
	if cur, ok := x.one[p]; ok {
		if cur != id {
			delete(x.one, p)
			x.more[p] = []string{cur, id}
		}
		return
	}
	if ids, ok := x.more[p]; ok {
		if !slices.Contains(ids, id) {
			x.more[p] = append(ids, id)
		}
		return
	}
	x.one[p] = id
}

func (x pathIndex) remove(p, id string) {
	if cur, ok := x.one[p]; ok {
		if cur == id {
			delete(x.one, p)
		}
		return
	}
	ids := slices.DeleteFunc(x.more[p], func(s string) bool { return s == id })
	switch len(ids) {
	case 0:
		delete(x.more, p)
	case 1:
		delete(x.more, p)
		x.one[p] = ids[0]
	default:
		x.more[p] = ids
	}
}

// each calls f for every path and id.
func (x pathIndex) each(f func(p, id string)) {
	for p, id := range x.one {
		f(p, id)
	}
	for p, ids := range x.more {
		for _, id := range ids {
			f(p, id)
		}
	}
}

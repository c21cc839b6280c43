package config

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
)

// Resource is a table of any kind: what every kind's struct has through
// its embedded Meta. cm builds its plan from them (All).
type Resource interface {
	ID() string
	At(key string) Pos
	meta() *Meta
}

// edger is a resource with explicit edges: its Edges, or a service's
// requires.
type edger interface {
	edgeList() (requires, notify []string)
}

// table is one top-level TOML table a config file may hold.
type table interface {
	key() string
	// fieldType is the Go type of the table in a file's document.
	fieldType() reflect.Type
	init(c *Config)
	// load merges one file's table (a value of fieldType) into c.
	load(c *Config, v reflect.Value, src *fileKeys) Errors
}

// kindRow is a table of resources, [KIND."NAME"]: a row of the kinds table.
type kindRow interface {
	table
	has(c *Config, name string) bool
	resource(c *Config, name string) (Resource, bool)
	// edged: the kind's resources have edges (edger).
	edged() bool
	// eachEdges calls f with each resource's edges, if it has any.
	eachEdges(c *Config, f func(id string, requires, notify []string))
	refreshable() bool
	edges(c *Config) []ResourceEdges
	checkRefs(c *Config) Errors
	dropKeyPositions(c *Config)
}

// kind is the row of one resource kind: its tables decode into T.
type kind[T any, P interface {
	*T
	Resource
}] struct {
	name     string
	get      func(*Config) *map[string]P
	validate func(P) Errors
	// refs checks what a resource names, once every file is merged; nil
	// checks its requires and notify.
	refs func(*Config, P) Errors
	// refresh: a notify may name this kind (a service restarts, an exec runs).
	refresh bool
	// declare completes a resource from what is declared outside the
	// config (a service's unit file) before it is validated; may be nil.
	declare func(*Config, P) Errors
}

func (k kind[T, P]) key() string             { return k.name }
func (k kind[T, P]) fieldType() reflect.Type { return reflect.TypeFor[map[string]P]() }
func (k kind[T, P]) refreshable() bool       { return k.refresh }

func (k kind[T, P]) init(c *Config) {
	if m := k.get(c); *m == nil {
		*m = map[string]P{}
	}
}

func (k kind[T, P]) has(c *Config, name string) bool {
	_, ok := (*k.get(c))[name]
	return ok
}

func (k kind[T, P]) resource(c *Config, name string) (Resource, bool) {
	r, ok := (*k.get(c))[name]
	return r, ok
}

func (k kind[T, P]) edged() bool {
	_, ok := any(P(nil)).(edger)
	return ok
}

func (k kind[T, P]) eachEdges(c *Config, f func(id string, requires, notify []string)) {
	if !k.edged() {
		return
	}
	for name, r := range *k.get(c) {
		if req, notify := any(r).(edger).edgeList(); len(req)+len(notify) > 0 {
			f(k.name+":"+name, req, notify)
		}
	}
}

// load adds the file's resources; a name already defined is an error that
// names both places.
func (k kind[T, P]) load(c *Config, v reflect.Value, src *fileKeys) Errors {
	in, _ := v.Interface().(map[string]P)
	k.init(c)
	dst := *k.get(c)
	if len(dst) == 0 && len(in) > 0 { // sized once, not grown table by table
		dst = make(map[string]P, len(in))
		*k.get(c) = dst
	}
	var errs Errors
	for _, name := range slices.Sorted(maps.Keys(in)) {
		r := in[name]
		if r == nil {
			r = new(T)
		}
		m := r.meta()
		pos, elsewhere := src.at(k.name, name), false
		if m.From != "" {
			from, err := parseFrom(m.From)
			if err != nil {
				errs = append(errs, Error{src.at(k.name, name, "from"), err.Error()})
				continue
			}
			// Declared elsewhere: every error about it names that place.
			pos, elsewhere = from, true
		}
		if prev, ok := dst[name]; ok && prev.meta().rank >= c.rank {
			errs = append(errs, Error{pos, fmt.Sprintf("%s %q is already defined at %s", k.name, name, prev.meta().Pos)})
			continue
		}
		m.Name, m.Pos, m.kind = name, pos, k.name
		m.rank = c.rank // a lower layer's is replaced whole
		m.keys, m.elsewhere = src, elsewhere
		dst[name] = r
		if k.declare != nil {
			if derrs := k.declare(c, r); len(derrs) > 0 {
				errs = append(errs, derrs...)
				continue
			}
		}
		errs = append(errs, k.validate(r)...)
	}
	return errs
}

func (k kind[T, P]) edges(c *Config) []ResourceEdges {
	var out []ResourceEdges
	for name, r := range *k.get(c) {
		e, ok := any(r).(edger)
		if !ok {
			return nil // the kind has no edges
		}
		req, notify := e.edgeList()
		out = append(out, ResourceEdges{ID: k.name + ":" + name, Requires: req, Notify: notify, At: r.meta().At})
	}
	return out
}

func (k kind[T, P]) checkRefs(c *Config) Errors {
	var errs Errors
	m := *k.get(c)
	for _, name := range slices.Sorted(maps.Keys(m)) {
		r := m[name]
		if k.refs != nil {
			errs = append(errs, k.refs(c, r)...)
		} else if e, ok := any(r).(edger); ok {
			req, notify := e.edgeList()
			errs = append(errs, checkRequires(c, r.meta(), req)...)
			errs = append(errs, checkNotify(c, r.meta(), notify)...)
		}
	}
	return errs
}

// dropKeyPositions forgets per-key line numbers once a config is valid:
// they are for errors, and their index holds every key of every file (a few
// MB for 10,000 resources) for as long as the config lives. Resources keep
// their own file:line.
func (k kind[T, P]) dropKeyPositions(c *Config) {
	for _, r := range *k.get(c) {
		m := r.meta()
		m.keys, m.declared, m.rank = nil, nil, 0
	}
}

// single is the row of a table that is not a resource and may be defined
// once in the whole config: [system], [cm].
type single[T any] struct {
	name     string
	get      func(*Config) *T
	pos      func(*T) *Pos
	validate func(v *T, at func(key string) Pos) Errors // may be nil
}

func (s single[T]) key() string             { return s.name }
func (s single[T]) fieldType() reflect.Type { return reflect.TypeFor[*T]() }
func (s single[T]) init(*Config)            {}

func (s single[T]) load(c *Config, v reflect.Value, keys *fileKeys) Errors {
	src, _ := v.Interface().(*T)
	if src == nil {
		return nil
	}
	pos := keys.at(s.name)
	dst := s.get(c)
	if prev := *s.pos(dst); prev.File != "" && c.ranks[s.name] >= c.rank {
		return Errors{{pos, "[" + s.name + "] is already defined at " + prev.String()}}
	}
	if c.ranks != nil {
		c.ranks[s.name] = c.rank
	}
	*dst = *src
	*s.pos(dst) = pos
	if s.validate == nil {
		return nil
	}
	return s.validate(dst, func(key string) Pos { return keys.at(s.name, key) })
}

// All lists the resources of one kind (All[Dir](c)), sorted by name.
func All[T any, P interface {
	*T
	Resource
}](c *Config) []P {
	for _, row := range rows().kinds {
		if k, ok := row.(kind[T, P]); ok {
			m := *k.get(c)
			out := make([]P, 0, len(m))
			for _, name := range slices.Sorted(maps.Keys(m)) {
				out = append(out, m[name])
			}
			return out
		}
	}
	return nil
}

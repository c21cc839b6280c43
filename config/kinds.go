package config

import (
	"reflect"
	"strings"
	"sync"
)

// Kinds holds the merged resources of every kind beyond services, files
// and nets, keyed by name (or path).
type Kinds struct {
	Dirs     map[string]*Dir
	Links    map[string]*Link
	Users    map[string]*User
	Groups   map[string]*Group
	Sysctls  map[string]*Sysctl
	Modules  map[string]*Module
	Mounts   map[string]*Mount
	Packages map[string]*Package
	Execs    map[string]*Exec
	Tmpfiles map[string]*Tmpfile
	Checks   map[string]*Check // not converged: probes (check.go)
}

// schema is the table of every top-level table a config file may hold,
// one row each. The rows of resource kinds drive loading (a file's
// document type is made from them), Has, IsKind, Refreshable, AllEdges,
// the reference checks and dropping key positions; cm builds its plan
// from them too (All). A new kind is its struct and validator, a field in
// Kinds and a row here.
//
// It is built once, on first use, not by Go's variable initialisation:
// the rows' validators ask the table questions (IsKind, Has), a cycle Go
// refuses; and a process that loads no config (PID 1 until it does, unit
// version) pays nothing for it. Nothing changes it afterwards.
type schema struct {
	tables  []table
	kinds   []kindRow
	byKind  map[string]kindRow
	docType reflect.Type // one file: a struct with a field per table
}

var (
	schemaOnce sync.Once
	theSchema  schema
)

// rows is the schema, built on the first call.
func rows() *schema {
	schemaOnce.Do(func() { theSchema = newSchema() })
	return &theSchema
}

func newSchema() schema {
	tables := []table{
		single[System]{name: "system", get: func(c *Config) *System { return &c.System }, pos: func(s *System) *Pos { return &s.Pos }, validate: validateSystem},
		single[CM]{name: "cm", get: func(c *Config) *CM { return &c.CM }, pos: func(s *CM) *Pos { return &s.Pos }, validate: validateCM},
		single[Web]{name: "web", get: func(c *Config) *Web { return &c.Web }, pos: func(s *Web) *Pos { return &s.Pos }, validate: validateWeb},
		single[Fleet]{name: "fleet", get: func(c *Config) *Fleet { return &c.Fleet }, pos: func(s *Fleet) *Pos { return &s.Pos }, validate: validateFleet},
		single[Metrics]{name: "metrics", get: func(c *Config) *Metrics { return &c.Metrics }, pos: func(s *Metrics) *Pos { return &s.Pos }, validate: validateMetrics},
		kind[Service, *Service]{name: "service", get: func(c *Config) *map[string]*Service { return &c.Services }, validate: validateService, refs: serviceRefs, refresh: true, declare: declareService},
		kind[File, *File]{name: "file", get: func(c *Config) *map[string]*File { return &c.Files }, validate: validateFile, refs: fileRefs},
		kind[Net, *Net]{name: "net", get: func(c *Config) *map[string]*Net { return &c.Nets }, validate: validateNet},
		kind[Dir, *Dir]{name: "dir", get: func(c *Config) *map[string]*Dir { return &c.Dirs }, validate: validateDir, refs: dirRefs},
		kind[Link, *Link]{name: "link", get: func(c *Config) *map[string]*Link { return &c.Links }, validate: validateLink},
		kind[User, *User]{name: "user", get: func(c *Config) *map[string]*User { return &c.Users }, validate: validateUser},
		kind[Group, *Group]{name: "group", get: func(c *Config) *map[string]*Group { return &c.Groups }, validate: validateGroup},
		kind[Sysctl, *Sysctl]{name: "sysctl", get: func(c *Config) *map[string]*Sysctl { return &c.Sysctls }, validate: validateSysctl},
		kind[Module, *Module]{name: "module", get: func(c *Config) *map[string]*Module { return &c.Modules }, validate: validateModule},
		kind[Mount, *Mount]{name: "mount", get: func(c *Config) *map[string]*Mount { return &c.Mounts }, validate: validateMount},
		kind[Package, *Package]{name: "package", get: func(c *Config) *map[string]*Package { return &c.Packages }, validate: validatePackage},
		kind[Exec, *Exec]{name: "exec", get: func(c *Config) *map[string]*Exec { return &c.Execs }, validate: validateExec, refresh: true},
		kind[Tmpfile, *Tmpfile]{name: "tmpfile", get: func(c *Config) *map[string]*Tmpfile { return &c.Tmpfiles }, validate: validateTmpfile},
		kind[Check, *Check]{name: "check", get: func(c *Config) *map[string]*Check { return &c.Checks }, validate: validateCheck},
	}
	s := schema{tables: tables, byKind: map[string]kindRow{}}
	fields := make([]reflect.StructField, len(tables))
	for i, t := range tables {
		if k, ok := t.(kindRow); ok {
			s.kinds = append(s.kinds, k)
			s.byKind[t.key()] = k
		}
		fields[i] = reflect.StructField{
			Name: strings.ToUpper(t.key()[:1]) + t.key()[1:],
			Type: t.fieldType(),
			Tag:  reflect.StructTag(`toml:"` + t.key() + `"`),
		}
	}
	s.docType = reflect.StructOf(fields)
	return s
}

// IsKind reports whether kind names a resource kind (the part of an id
// before the colon).
func IsKind(kind string) bool {
	_, ok := rows().byKind[kind]
	return ok
}

// Has reports whether id ("KIND:NAME") is a defined resource.
func (c *Config) Has(id string) bool {
	kind, name, _ := strings.Cut(id, ":")
	k, ok := rows().byKind[kind]
	return ok && k.has(c, name)
}

// Refreshable reports whether id names a kind that a notify can refresh.
func Refreshable(id string) bool {
	kind, _, colon := strings.Cut(id, ":")
	k, ok := rows().byKind[kind]
	return colon && ok && k.refreshable()
}

// dropKeyPositions forgets every resource's per-key lines (see kind's).
func (c *Config) dropKeyPositions() {
	for _, k := range rows().kinds {
		k.dropKeyPositions(c)
	}
}

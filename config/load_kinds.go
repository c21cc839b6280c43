package config

import "fmt"

// kindsDoc is the part of one TOML file that holds the configuration
// management kinds beyond [service] and [file].
type kindsDoc struct {
	Dir     map[string]*Dir     `toml:"dir"`
	Link    map[string]*Link    `toml:"link"`
	User    map[string]*User    `toml:"user"`
	Group   map[string]*Group   `toml:"group"`
	Sysctl  map[string]*Sysctl  `toml:"sysctl"`
	Module  map[string]*Module  `toml:"module"`
	Mount   map[string]*Mount   `toml:"mount"`
	Package map[string]*Package `toml:"package"`
	Exec    map[string]*Exec    `toml:"exec"`
	CM      *CM                 `toml:"cm"`
}

// Kinds holds the merged resources of every kind beyond services and files,
// keyed by name (or path).
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
}

func newKinds() Kinds {
	return Kinds{
		Dirs: map[string]*Dir{}, Links: map[string]*Link{}, Users: map[string]*User{},
		Groups: map[string]*Group{}, Sysctls: map[string]*Sysctl{}, Modules: map[string]*Module{},
		Mounts: map[string]*Mount{}, Packages: map[string]*Package{}, Execs: map[string]*Exec{},
	}
}

// addKinds merges one file's tables into c, validating each resource.
func (c *Config) addKinds(doc *document, at func(keys ...string) Pos) Errors {
	var errs Errors
	if doc.CM != nil {
		pos := at("cm")
		if c.CM.Pos.File != "" {
			errs = append(errs, Error{pos, "[cm] is already defined at " + c.CM.Pos.String()})
		} else {
			c.CM = *doc.CM
			c.CM.Pos = pos
			if c.CM.Reports < 0 {
				errs = append(errs, Error{at("cm", "reports"), "reports must not be negative"})
			}
		}
	}
	errs = append(errs, merge(c.Dirs, doc.Dir, "dir", at, func(name string, v *Dir, pos Pos, a func(string) Pos) Errors {
		v.Path, v.Pos, v.at = name, pos, a
		return validateDir(v)
	})...)
	errs = append(errs, merge(c.Links, doc.Link, "link", at, func(name string, v *Link, pos Pos, a func(string) Pos) Errors {
		v.Path, v.Pos, v.at = name, pos, a
		return validateLink(v)
	})...)
	errs = append(errs, merge(c.Users, doc.User, "user", at, func(name string, v *User, pos Pos, a func(string) Pos) Errors {
		v.Name, v.Pos, v.at = name, pos, a
		return validateUser(v)
	})...)
	errs = append(errs, merge(c.Groups, doc.Group, "group", at, func(name string, v *Group, pos Pos, a func(string) Pos) Errors {
		v.Name, v.Pos, v.at = name, pos, a
		return validateGroup(v)
	})...)
	errs = append(errs, merge(c.Sysctls, doc.Sysctl, "sysctl", at, func(name string, v *Sysctl, pos Pos, a func(string) Pos) Errors {
		v.Key, v.Pos, v.at = name, pos, a
		return validateSysctl(v)
	})...)
	errs = append(errs, merge(c.Modules, doc.Module, "module", at, func(name string, v *Module, pos Pos, a func(string) Pos) Errors {
		v.Name, v.Pos, v.at = name, pos, a
		return validateModule(v)
	})...)
	errs = append(errs, merge(c.Mounts, doc.Mount, "mount", at, func(name string, v *Mount, pos Pos, a func(string) Pos) Errors {
		v.Path, v.Pos, v.at = name, pos, a
		return validateMount(v)
	})...)
	errs = append(errs, merge(c.Packages, doc.Package, "package", at, func(name string, v *Package, pos Pos, a func(string) Pos) Errors {
		v.Name, v.Pos, v.at = name, pos, a
		return validatePackage(v)
	})...)
	errs = append(errs, merge(c.Execs, doc.Exec, "exec", at, func(name string, v *Exec, pos Pos, a func(string) Pos) Errors {
		v.Name, v.Pos, v.at = name, pos, a
		return validateExec(v)
	})...)
	return errs
}

// positioned is what merge needs to name an earlier definition.
type positioned interface{ At(key string) Pos }

// merge adds src's resources to dst; a name already defined is an error
// that names both places.
func merge[T any, P interface {
	*T
	positioned
}](dst map[string]P, src map[string]P, kind string, at func(keys ...string) Pos,
	setup func(name string, v P, pos Pos, at func(string) Pos) Errors) Errors {
	var errs Errors
	for _, name := range sortedKeys(src) {
		v := src[name]
		pos := at(kind, name)
		if prev, ok := dst[name]; ok {
			errs = append(errs, Error{pos, fmt.Sprintf("%s %q is already defined at %s", kind, name, prev.At(""))})
			continue
		}
		if v == nil {
			v = new(T)
		}
		a := func(k string) Pos {
			if k == "" {
				return pos
			}
			return at(kind, name, k)
		}
		errs = append(errs, setup(name, v, pos, a)...)
		dst[name] = v
	}
	return errs
}

// dropKeyPositions forgets per-key line numbers once a config is valid:
// they are for errors, and their index holds every key of every file (a few
// MB for 10,000 resources) for as long as the config lives. Resources keep
// their own file:line.
func (c *Config) dropKeyPositions() {
	for _, f := range c.Files {
		f.at = nil
	}
	for _, v := range c.Dirs {
		v.at = nil
	}
	for _, v := range c.Links {
		v.at = nil
	}
	for _, v := range c.Users {
		v.at = nil
	}
	for _, v := range c.Groups {
		v.at = nil
	}
	for _, v := range c.Sysctls {
		v.at = nil
	}
	for _, v := range c.Modules {
		v.at = nil
	}
	for _, v := range c.Mounts {
		v.at = nil
	}
	for _, v := range c.Packages {
		v.at = nil
	}
	for _, v := range c.Execs {
		v.at = nil
	}
}

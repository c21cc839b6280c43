package config

import (
	"strings"
)

// DefaultStore is where kegs live unless a package names another store.
const DefaultStore = "/var/lib/unit/store"

// Package is one [package.NAME] table: a keg linked into place.
type Package struct {
	Meta
	Edges
	Version string `toml:"version"` // "1.2" or "1.2-HASH"; default: the only keg in the store
	Store   string `toml:"store"`   // default /var/lib/unit/store
	Prefix  string `toml:"prefix"`  // where the keg's files are linked; default /usr/local
}

func validatePackage(p *Package) Errors {
	var errs Errors
	bad := resourceComplainer(&errs, &p.Meta, "package")
	if p.Name == "" || strings.ContainsAny(p.Name, "/\n") || p.Name == "." || p.Name == ".." {
		bad("", "invalid package name")
	}
	if strings.ContainsAny(p.Version, "/\n") {
		bad("version", "version = %q: must not contain '/'", p.Version)
	}
	if p.Store == "" {
		p.Store = DefaultStore
	} else if !isCleanAbs(p.Store) {
		bad("store", "store = %q: expected an absolute path", p.Store)
	}
	if p.Prefix == "" {
		p.Prefix = "/usr/local"
	} else if !isCleanAbs(p.Prefix) {
		bad("prefix", "prefix = %q: expected an absolute path", p.Prefix)
	}
	return errs
}

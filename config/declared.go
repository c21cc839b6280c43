package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// Note is a declaration unit does not honour, at its line: a unit file's
// key it cannot carry out (PrivateTmp=) or can only approximate.
type Note struct {
	Pos Pos
	Key string // as the declaration names it, e.g. "PrivateTmp"
	Why string
}

func (n Note) String() string { return fmt.Sprintf("%s: %s= not honoured: %s", n.Pos, n.Key, n.Why) }

// Merge completes s with what a package declares for it (its unit file,
// translated): each key s's own table wrote stays, every other key is
// the declared one, and At names the declaration's line for it. A map
// (env, rlimits) merges entry by entry, s's entries winning; a table
// (dirs, limits, log) is one key.
func (s *Service) Merge(declared *Service) {
	sv, dv := reflect.ValueOf(s).Elem(), reflect.ValueOf(declared).Elem()
	t := sv.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key := strings.Split(f.Tag.Get("toml"), ",")[0]
		if f.Anonymous || key == "" || key == "-" || dv.Field(i).IsZero() {
			continue
		}
		own, from := sv.Field(i), dv.Field(i)
		switch {
		case !s.Set(key):
			own.Set(from)
			s.Declare(key, declared.At(key))
		case f.Type.Kind() == reflect.Map && !own.IsNil():
			for _, k := range from.MapKeys() {
				if !own.MapIndex(k).IsValid() {
					own.SetMapIndex(k, from.MapIndex(k))
				}
			}
		}
	}
}

// declareService completes a [service.NAME] without exec from its unit
// file, when the loader has a way to find one (Loader.Declared).
func declareService(c *Config, s *Service) Errors {
	if c.declared == nil || s.Set("exec") {
		return nil
	}
	d, notes, err := c.declared(s.Name)
	if err != nil {
		var es Errors
		var e Error
		switch {
		case errors.As(err, &es):
			return es
		case errors.As(err, &e):
			return Errors{e}
		}
		return Errors{{s.Pos, fmt.Sprintf("service %q: %v", s.Name, err)}}
	}
	if d == nil {
		s.undeclared = true
		return nil
	}
	s.Merge(d)
	c.Notes = append(c.Notes, notes...)
	return nil
}

// pruneDeclaredRequires keeps, of the requires a unit file declared, the
// services the config has: a unit file names units of a whole Debian
// system (syslog.service, network-online.target) that an image has not.
func pruneDeclaredRequires(c *Config) {
	for _, s := range c.Services {
		if _, ok := s.declared["requires"]; !ok {
			continue
		}
		kept := s.Requires[:0]
		for _, r := range s.Requires {
			if c.Has(r) {
				kept = append(kept, r)
			}
		}
		s.Requires = kept
	}
}

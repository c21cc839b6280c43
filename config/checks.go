package config

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// Checks shared by the kinds' validators.

func isCleanAbs(p string) bool { return filepath.IsAbs(p) && filepath.Clean(p) == p }

// checkBelowRoot: a path a resource manages must be absolute, clean and not
// / itself; what says so.
func checkBelowRoot(bad func(string, string, ...any), path, what string) {
	if !isCleanAbs(path) || path == "/" {
		bad("", "%s", what)
	}
}

// complainer builds errors for one resource, each at its key's line.
func complainer(errs *Errors, at func(string) Pos, what string) func(key, format string, args ...any) {
	return func(key, format string, args ...any) {
		*errs = append(*errs, Error{at(key), what + ": " + fmt.Sprintf(format, args...)})
	}
}

// resourceComplainer is complainer for a resource, said as `KIND "NAME"`
// (fmt's %q): words made only when there is an error, since most
// resources of a large config have none.
func resourceComplainer(errs *Errors, m *Meta, kind string) func(key, format string, args ...any) {
	return func(key, format string, args ...any) {
		*errs = append(*errs, Error{m.At(key), kind + " " + strconv.Quote(m.Name) + ": " + fmt.Sprintf(format, args...)})
	}
}

func checkEnsure(bad func(string, string, ...any), ensure *string, allowed ...string) {
	if *ensure == "" {
		*ensure = allowed[0]
		return
	}
	for _, a := range allowed {
		if *ensure == a {
			return
		}
	}
	bad("ensure", "ensure = %q: expected one of %s", *ensure, strings.Join(allowed, ", "))
}

func parseMode(bad func(string, string, ...any), mode string, def uint32) uint32 {
	if mode == "" {
		return def
	}
	m, err := strconv.ParseUint(mode, 8, 32)
	if err != nil || m > 0o7777 {
		bad("mode", "mode = %q: expected an octal mode such as \"0755\"", mode)
		return def
	}
	return uint32(m)
}

// packageSource checks a source = "package:NAME/PATH" names a [package]
// table; a plain path is not its business.
func packageSource(c *Config, m *Meta, source string) Errors {
	name, ok := strings.CutPrefix(source, "package:")
	if !ok {
		return nil
	}
	name, _, _ = strings.Cut(name, "/")
	if _, ok := c.Packages[name]; ok {
		return nil
	}
	return Errors{{m.At("source"), fmt.Sprintf("%s: source %q: package %q is not defined", m.ID(), source, name)}}
}

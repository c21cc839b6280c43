package config

import (
	"regexp"
)

var moduleName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Module is one [module.NAME] table: a kernel module kept loaded.
type Module struct {
	Meta
	Edges
}

func validateModule(m *Module) Errors {
	var errs Errors
	bad := resourceComplainer(&errs, &m.Meta, "module")
	if !moduleName.MatchString(m.Name) {
		bad("", "invalid module name: expected e.g. \"virtio_net\"")
	}
	return errs
}

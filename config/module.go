package config

import (
	"fmt"
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
	bad := complainer(&errs, m.At, fmt.Sprintf("module %q", m.Name))
	if !moduleName.MatchString(m.Name) {
		bad("", "invalid module name: expected e.g. \"virtio_net\"")
	}
	return errs
}

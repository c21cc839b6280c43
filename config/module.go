package config

// Module is one [module.NAME] table: a kernel module kept loaded.
type Module struct {
	Meta
	Edges
}

func validateModule(m *Module) Errors {
	var errs Errors
	bad := resourceComplainer(&errs, &m.Meta, "module")
	if !isBareKey(m.Name) {
		bad("", "invalid module name: expected e.g. \"virtio_net\"")
	}
	return errs
}

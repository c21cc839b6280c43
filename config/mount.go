package config

// Mount is one [mount."/mnt/data"] table.
type Mount struct {
	Meta
	Edges
	Device  string `toml:"device"` // what to mount: a device, "tmpfs", "proc", ...
	Type    string `toml:"type"`
	Options string `toml:"options"` // comma-separated, as in fstab
	Ensure  string `toml:"ensure"`  // mounted (default) | unmounted
}

func validateMount(m *Mount) Errors {
	var errs Errors
	bad := resourceComplainer(&errs, &m.Meta, "mount")
	checkBelowRoot(bad, m.Name, "mount point must be absolute, clean and not /")
	checkEnsure(bad, &m.Ensure, "mounted", "unmounted")
	if m.Ensure == "mounted" {
		if m.Device == "" {
			bad("device", "expected device = \"...\" (a block device, or e.g. \"tmpfs\")")
		}
		if m.Type == "" {
			bad("type", "expected type = \"...\" (e.g. \"ext4\", \"tmpfs\")")
		}
	}
	return errs
}

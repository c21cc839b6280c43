package config

import (
	"path/filepath"
	"strings"
)

// Dir is one [dir."PATH"] table.
type Dir struct {
	Meta
	Edges
	Mode   string `toml:"mode"`
	Owner  string `toml:"owner"`
	Group  string `toml:"group"`
	Ensure string `toml:"ensure"` // present (default) | absent
	// PurgeUnmanaged removes entries in the directory that no resource manages.
	PurgeUnmanaged bool `toml:"purge_unmanaged"`
	// Source mirrors a directory tree into this one: files (content and
	// mode) and subdirectories; an absolute path or package:NAME/PATH.
	Source string `toml:"source"`

	DirMode uint32 `toml:"-"` // Mode parsed; 0755 when unset
}

// Absent reports whether the directory must not exist.
func (d *Dir) Absent() bool { return d.Ensure == "absent" }

func validateDir(d *Dir) Errors {
	var errs Errors
	bad := resourceComplainer(&errs, &d.Meta, "dir")
	checkBelowRoot(bad, d.Name, "path must be absolute, clean and not / (e.g. \"/var/www\")")
	checkEnsure(bad, &d.Ensure, "present", "absent")
	d.DirMode = parseMode(bad, d.Mode, 0o755)
	if d.Absent() && d.PurgeUnmanaged {
		bad("purge_unmanaged", "purge_unmanaged makes no sense with ensure = \"absent\"")
	}
	if d.Source != "" && !filepath.IsAbs(d.Source) && !strings.HasPrefix(d.Source, "package:") {
		bad("source", "source = %q: expected an absolute path or package:NAME/PATH", d.Source)
	}
	if d.Source != "" && d.Absent() {
		bad("source", "source makes no sense with ensure = \"absent\"")
	}
	return errs
}

// dirRefs: requires, a package source's package, notify.
func dirRefs(c *Config, d *Dir) Errors {
	errs := checkRequires(c, &d.Meta, d.Requires)
	errs = append(errs, packageSource(c, &d.Meta, d.Source)...)
	return append(errs, checkNotify(c, &d.Meta, d.Notify)...)
}

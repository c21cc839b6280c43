package config

// Link is one [link."PATH"] table: a symbolic link.
type Link struct {
	Meta
	Edges
	Target string `toml:"target"`
	Ensure string `toml:"ensure"` // present (default) | absent
}

// Absent reports whether the link must not exist.
func (l *Link) Absent() bool { return l.Ensure == "absent" }

func validateLink(l *Link) Errors {
	var errs Errors
	bad := resourceComplainer(&errs, &l.Meta, "link")
	if !isCleanAbs(l.Name) {
		bad("", "path must be absolute and clean (e.g. \"/usr/bin/vi\")")
	}
	checkEnsure(bad, &l.Ensure, "present", "absent")
	if !l.Absent() && l.Target == "" {
		bad("", "expected target = \"PATH\"")
	}
	return errs
}

package config

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// File is one [file."PATH"] table.
type File struct {
	Meta
	Edges
	Content *string `toml:"content"`
	Source  string  `toml:"source"`
	Mode    string  `toml:"mode"`
	Owner   string  `toml:"owner"`
	Group   string  `toml:"group"`
	Ensure  string  `toml:"ensure"`
	// Template is text/template source rendered with Vars and the facts.
	Template *string        `toml:"template"`
	Vars     map[string]any `toml:"vars"`

	// FileMode is Mode parsed; 0644 when unset.
	FileMode uint32 `toml:"-"`
}

// Absent reports whether the file must not exist.
func (f *File) Absent() bool { return f.Ensure == "absent" }

func validateFile(f *File) Errors {
	var errs Errors
	bad := resourceComplainer(&errs, &f.Meta, "file")
	if !isCleanAbs(f.Name) {
		bad("", "path must be absolute and clean (e.g. \"/etc/motd\")")
	}
	switch f.Ensure {
	case "", "present":
		f.Ensure = "present"
		n := 0
		for _, set := range []bool{f.Content != nil, f.Source != "", f.Template != nil} {
			if set {
				n++
			}
		}
		if n == 0 {
			bad("", "expected content = \"...\", template = \"...\" or source = \"PATH\" (or ensure = \"absent\")")
		}
		if n > 1 {
			bad("source", "content, template and source are mutually exclusive")
		}
		if f.Template != nil {
			errs = append(errs, checkTemplate(f)...)
		}
	case "absent":
		if f.Content != nil || f.Source != "" || f.Template != nil {
			bad("ensure", "ensure = \"absent\" takes no content or source")
		}
	default:
		bad("ensure", "ensure = %q: expected present or absent", f.Ensure)
	}
	f.FileMode = 0o644
	if f.Mode != "" {
		m, err := strconv.ParseUint(f.Mode, 8, 32)
		if err != nil || m > 0o7777 {
			bad("mode", "mode = %q: expected an octal mode such as \"0644\"", f.Mode)
		} else {
			f.FileMode = uint32(m)
		}
	}
	return errs
}

// fileRefs: requires, the source (a path or a defined package), notify.
func fileRefs(c *Config, f *File) Errors {
	errs := checkRequires(c, &f.Meta, f.Requires)
	if strings.HasPrefix(f.Source, "package:") {
		errs = append(errs, packageSource(c, &f.Meta, f.Source)...)
	} else if f.Source != "" && !filepath.IsAbs(f.Source) {
		errs = append(errs, Error{f.At("source"), fmt.Sprintf("%s: source %q: expected an absolute path or package:NAME/PATH", f.ID(), f.Source)})
	}
	for _, n := range f.Notify {
		if !Refreshable(n) {
			errs = append(errs, Error{f.At("notify"), fmt.Sprintf("file %q: notify %q: expected service:NAME or exec:NAME", f.Name, n)})
		} else if !c.Has(n) {
			errs = append(errs, Error{f.At("notify"), fmt.Sprintf("file %q notifies %q, which is not defined", f.Name, n)})
		}
	}
	return errs
}

package tmpfiles

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/unit-os/unit/systemd/syntax"
)

// Line is the entry as a tmpfiles.d line that parses back to it (with the
// same specifiers): what a report can show.
func (e Entry) Line() string {
	var b strings.Builder
	b.WriteByte(e.Type)
	for _, m := range []struct {
		on bool
		c  byte
	}{{e.Plus, '+'}, {e.Boot, '!'}, {e.IgnoreFailure, '-'}, {e.Replace, '='}, {e.Base64, '~'}, {e.Credential, '^'}} {
		if m.on {
			b.WriteByte(m.c)
		}
	}
	b.WriteByte(' ')
	b.WriteString(syntax.Quote(strings.ReplaceAll(e.Path, "%", "%%")))
	b.WriteByte(' ')
	if e.ModeSet {
		if e.ModeMask {
			b.WriteByte('~')
		}
		if e.ModeOnlyCreate {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%04o", octal(e.Mode))
	} else {
		b.WriteByte('-')
	}
	for _, o := range []struct {
		name string
		only bool
	}{{e.User, e.UserOnlyCreate}, {e.Group, e.GroupOnlyCreate}} {
		b.WriteByte(' ')
		switch {
		case o.name == "":
			b.WriteByte('-')
		case o.only:
			b.WriteString(":" + syntax.Quote(o.name))
		default:
			b.WriteString(syntax.Quote(o.name))
		}
	}
	b.WriteByte(' ')
	if e.AgeSet {
		if e.AgeKeepFirstLevel {
			b.WriteByte('~')
		}
		if e.AgeBy != "" {
			b.WriteString(e.AgeBy + ":")
		}
		if e.Age == syntax.Infinity {
			b.WriteString("infinity")
		} else {
			fmt.Fprintf(&b, "%dus", e.Age.Microseconds())
		}
	} else {
		b.WriteByte('-')
	}
	if e.ArgumentSet {
		b.WriteByte(' ')
		if e.unescaped() {
			b.WriteString(escapeArgument(e.Argument))
		} else {
			b.WriteString(e.Argument)
		}
	}
	return b.String()
}

// unescaped is true for the arguments Parse unescaped and expanded.
func (e Entry) unescaped() bool {
	return e.Type == 'L' || e.Type == 'C' || (strings.IndexByte("fFw", e.Type) >= 0 && !e.Base64 && !e.Credential)
}

func escapeArgument(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '%':
			b.WriteString("%%")
		case c <= ' ' || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func octal(m fs.FileMode) uint32 {
	v := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	return v
}

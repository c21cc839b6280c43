// Package unitfile parses systemd unit files (systemd.syntax(7),
// systemd.unit(5)) into their keys, and gives a typed view of the keys of
// a service (systemd.service(5), systemd.exec(5), systemd.kill(5)) that
// unit can honour. Every key keeps its file:line; a key the typed view
// does not know is listed, never dropped. Nothing here acts.
package unitfile

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/systemd/syntax"
)

// Key is one assignment, as written (whitespace around key and value
// removed, continuations joined), at the line it starts on.
type Key struct {
	Section string
	Name    string
	Value   string
	Pos     config.Pos
}

func (k Key) String() string { return fmt.Sprintf("%s: [%s] %s=%s", k.Pos, k.Section, k.Name, k.Value) }

// File is a unit file's assignments in order. The parser is generic over
// sections: it keeps every section, known or not.
type File struct {
	Keys []Key
}

// Parse reads a unit file. name is the path errors and positions name.
// Unlike systemd, which warns and goes on, a line it would ignore (no
// "=", a key outside a section, a bad section header, invalid UTF-8) is
// an error here: a package's unit file has none, and a silently ignored
// line is a service that runs differently than its author meant.
func Parse(name string, data []byte) (*File, error) {
	lines, err := syntax.Lines(name, data)
	if err != nil {
		return nil, err
	}
	f := &File{}
	var errs config.Errors
	section := ""
	var cont strings.Builder // the continued line so far
	contStart := 0
	for _, ln := range lines {
		l := strings.TrimLeft(ln.Text, syntax.Whitespace)
		// A comment line is skipped, even between continued lines.
		if l != "" && (l[0] == '#' || l[0] == ';') {
			continue
		}
		if cont.Len() == 0 {
			contStart = ln.N
		}
		cont.WriteString(ln.Text)
		if cont.Len() > syntax.MaxLine {
			return nil, config.Error{Pos: config.Pos{File: name, Line: contStart},
				Msg: fmt.Sprintf("continued line is over %d bytes", syntax.MaxLine)}
		}
		if trailingBackslash(ln.Text) {
			// The backslash becomes a space and the next line follows.
			s := cont.String()
			cont.Reset()
			cont.WriteString(s[:len(s)-1] + " ")
			continue
		}
		text := cont.String()
		cont.Reset()
		pos := config.Pos{File: name, Line: contStart}
		if err := f.line(pos, text, &section); err != nil {
			errs = append(errs, *err)
		}
	}
	if cont.Len() > 0 {
		// A continuation at the end of the file ends the line there.
		if err := f.line(config.Pos{File: name, Line: contStart}, cont.String(), &section); err != nil {
			errs = append(errs, *err)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return f, nil
}

// trailingBackslash is true if s ends in an unescaped backslash.
func trailingBackslash(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

func (f *File) line(pos config.Pos, l string, section *string) *config.Error {
	l = strings.Trim(l, syntax.Whitespace)
	if l == "" {
		return nil
	}
	bad := func(format string, a ...any) *config.Error {
		return &config.Error{Pos: pos, Msg: fmt.Sprintf(format, a...)}
	}
	if !utf8.ValidString(l) {
		return bad("invalid UTF-8")
	}
	if l[0] == '[' {
		if l[len(l)-1] != ']' {
			return bad("invalid section header %q: expected [NAME]", l)
		}
		n := l[1 : len(l)-1]
		if n == "" || strings.ContainsAny(n, "\"'\\\x7f") || strings.IndexFunc(n, func(r rune) bool { return r < ' ' }) >= 0 {
			return bad("invalid section name %q", n)
		}
		*section = n
		return nil
	}
	if *section == "" {
		return bad("assignment outside of a section: expected a [Section] header first")
	}
	k, v, ok := strings.Cut(l, "=")
	if !ok {
		return bad("missing '=' in %q: expected Key=value", l)
	}
	k = strings.Trim(k, syntax.Whitespace)
	if k == "" {
		return bad("missing key name before '='")
	}
	f.Keys = append(f.Keys, Key{Section: *section, Name: k, Value: strings.Trim(v, syntax.Whitespace), Pos: pos})
	return nil
}

// Merge is the unit with its drop-ins ("NAME.service.d/*.conf") applied
// in the order given, which the caller makes systemd's: by file name
// across the drop-in directories. A drop-in's assignment follows the
// unit's as if appended to it, so a list grows and an empty assignment
// resets it.
func Merge(unit *File, dropins ...*File) *File {
	out := &File{Keys: append([]Key(nil), unit.Keys...)}
	for _, d := range dropins {
		out.Keys = append(out.Keys, d.Keys...)
	}
	return out
}

// Format writes f as a unit file that parses back to the same keys
// (positions aside): a section header whenever the section changes.
func (f *File) Format() string {
	var b strings.Builder
	section := ""
	for _, k := range f.Keys {
		if k.Section != section {
			fmt.Fprintf(&b, "[%s]\n", k.Section)
			section = k.Section
		}
		v := k.Value
		if trailingBackslash(v) {
			// "A=x\ " is the value `x\`: without the space the
			// backslash would continue the line.
			v += " "
		}
		fmt.Fprintf(&b, "%s=%s\n", k.Name, v)
	}
	return b.String()
}

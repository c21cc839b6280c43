// Package tmpfiles parses tmpfiles.d(5) files: one line per path to
// create, write, adjust or clean. It only parses; each entry keeps its
// file:line so whatever acts on it can say where it came from.
package tmpfiles

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/systemd/syntax"
)

// Entry is one line.
type Entry struct {
	// Type is the line type's letter: f F w d D e v q Q p L c b C x X r
	// R z Z t T h H a A.
	Type byte
	// The type's modifiers.
	Plus          bool // "+": f+ truncates, w+ appends, L+ C+ c+ b+ p+ replace
	Boot          bool // "!": only at boot
	IgnoreFailure bool // "-": a failure to create is not an error
	Replace       bool // "=": remove what is there if its type differs
	Base64        bool // "~": the argument is base64
	Credential    bool // "^": the argument names a credential

	// Path is absolute, its specifiers resolved; for some types a glob.
	Path string

	// Mode is the access mode if ModeSet; see DefaultMode otherwise.
	Mode           fs.FileMode
	ModeSet        bool
	ModeMask       bool // "~": masked by the existing file's bits
	ModeOnlyCreate bool // ":": only applied when the inode is created

	// User and Group, a name or a number; "" is the default.
	User, Group                     string
	UserOnlyCreate, GroupOnlyCreate bool // ":"

	// Age is the clean-up age if AgeSet.
	Age               time.Duration
	AgeSet            bool
	AgeKeepFirstLevel bool   // "~"
	AgeBy             string // the "abcmABCM" before ":", "" for the default

	// Argument if ArgumentSet: for f, F, w, L and C with C escapes
	// and specifiers resolved (not with "~" or "^"); for L and C the
	// default /usr/share/factory/PATH when none was given.
	Argument    string
	ArgumentSet bool
	// Major and Minor of a c or b line.
	Major, Minor uint32

	Pos config.Pos
}

const types = "fFwdDevqQpLcbCxXrRzZtThHaA"

// DefaultMode is the mode an entry without one gets: 0755 for the
// directory types, 0644 for other created files; ok is false where no
// mode is applied (z, Z, and the types that ignore the mode).
func (e Entry) DefaultMode() (fs.FileMode, bool) {
	switch e.Type {
	case 'd', 'D', 'v', 'q', 'Q', 'e':
		return 0o755, e.Type != 'e'
	case 'f', 'F', 'w', 'p', 'c', 'b', 'C':
		return 0o644, true
	}
	return 0, false
}

// Parse reads a tmpfiles.d file; name is the path positions name. Every
// bad line is reported at its line.
func Parse(name string, data []byte, sp syntax.Specifiers) ([]Entry, error) {
	return syntax.Entries(name, data, func(l string, pos config.Pos) (Entry, error) {
		e, err := parseLine(l, sp)
		e.Pos = pos
		return e, err
	})
}

func parseLine(l string, sp syntax.Specifiers) (Entry, error) {
	fields := make([]string, 6)
	n, rest, err := syntax.Fields(l, fields)
	if err != nil {
		return Entry{}, err
	}
	if n < 2 {
		return Entry{}, fmt.Errorf("expected TYPE PATH [MODE [USER [GROUP [AGE [ARGUMENT]]]]]")
	}
	action, p, mode, user, group, age := fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]
	var e Entry
	if action == "" || strings.IndexByte(types, action[0]) < 0 {
		return Entry{}, fmt.Errorf("unknown type %q: expected one of %s", action, strings.Join(strings.Split(types, ""), " "))
	}
	e.Type = action[0]
	for _, m := range []byte(action[1:]) {
		var flag *bool
		switch m {
		case '+':
			flag = &e.Plus
		case '!':
			flag = &e.Boot
		case '-':
			flag = &e.IgnoreFailure
		case '=':
			flag = &e.Replace
		case '~':
			flag = &e.Base64
		case '^':
			flag = &e.Credential
		}
		if flag == nil || *flag {
			return Entry{}, fmt.Errorf("unknown modifiers in %q: expected + ! - = ~ ^, each once", action)
		}
		*flag = true
	}
	if rest != "" && rest != "-" {
		e.Argument, e.ArgumentSet = rest, true
	}

	if e.Path, err = syntax.Expand(p, sp.Lookup); err != nil {
		return Entry{}, fmt.Errorf("path %q: %w", p, err)
	}
	if !strings.HasPrefix(e.Path, "/") {
		return Entry{}, fmt.Errorf("path %q is not absolute", e.Path)
	}
	e.Path = simplify(e.Path)

	if mode != "" && mode != "-" {
		m := mode
		for m != "" && (m[0] == '~' || m[0] == ':') {
			if m[0] == '~' {
				e.ModeMask = true
			} else {
				e.ModeOnlyCreate = true
			}
			m = m[1:]
		}
		if e.Mode, err = parseMode(m); err != nil {
			return Entry{}, err
		}
		e.ModeSet = true
	}
	if user != "" && user != "-" {
		e.User, e.UserOnlyCreate = strings.CutPrefix(user, ":")
		if e.User == "" {
			return Entry{}, fmt.Errorf("empty user in %q", user)
		}
	}
	if group != "" && group != "-" {
		e.Group, e.GroupOnlyCreate = strings.CutPrefix(group, ":")
		if e.Group == "" {
			return Entry{}, fmt.Errorf("empty group in %q", group)
		}
	}
	if age != "" && age != "-" {
		a := age
		a, e.AgeKeepFirstLevel = strings.CutPrefix(a, "~")
		if by, span, ok := strings.Cut(a, ":"); ok {
			if by == "" || strings.Trim(by, "abcmABCM") != "" {
				return Entry{}, fmt.Errorf("bad age %q: expected [~][abcmABCM:]TIMESPAN", age)
			}
			e.AgeBy, a = by, span
		}
		if e.Age, err = syntax.ParseTimespan(a); err != nil {
			return Entry{}, fmt.Errorf("bad age %q: %w", age, err)
		}
		e.AgeSet = true
	}

	if e.Base64 && strings.IndexByte("LCcbtTaAhH", e.Type) >= 0 {
		return Entry{}, fmt.Errorf("%c lines take no base64 argument (~)", e.Type)
	}
	if e.Credential {
		if strings.IndexByte("fFw", e.Type) < 0 {
			return Entry{}, fmt.Errorf("%c lines take no credential (^): only f, f+ and w do", e.Type)
		}
		if !e.ArgumentSet {
			return Entry{}, fmt.Errorf("^ needs a credential name as argument")
		}
	}
	switch e.Type {
	case 'L', 'C':
		if !e.ArgumentSet {
			e.Argument, e.ArgumentSet = "/usr/share/factory"+e.Path, true
		} else if err := e.expandArgument(sp); err != nil {
			return Entry{}, err
		}
		if e.Type == 'C' && !strings.HasPrefix(e.Argument, "/") {
			return Entry{}, fmt.Errorf("copy source %q is not absolute", e.Argument)
		}
	case 'f', 'F', 'w':
		if !e.ArgumentSet && e.Type == 'w' {
			return Entry{}, fmt.Errorf("w lines need an argument: what to write")
		}
		if e.ArgumentSet && !e.Base64 && !e.Credential {
			if err := e.expandArgument(sp); err != nil {
				return Entry{}, err
			}
		}
	case 'c', 'b':
		if !e.ArgumentSet {
			return Entry{}, fmt.Errorf("%c lines need an argument: MAJOR:MINOR", e.Type)
		}
		maj, min, ok := strings.Cut(e.Argument, ":")
		ma, err1 := strconv.ParseUint(maj, 10, 32)
		mi, err2 := strconv.ParseUint(min, 10, 32)
		if !ok || err1 != nil || err2 != nil {
			return Entry{}, fmt.Errorf("bad device number %q: expected MAJOR:MINOR", e.Argument)
		}
		e.Major, e.Minor = uint32(ma), uint32(mi)
	case 't', 'T', 'a', 'A', 'h', 'H':
		if !e.ArgumentSet {
			return Entry{}, fmt.Errorf("%c lines need an argument", e.Type)
		}
	}
	return e, nil
}

func (e *Entry) expandArgument(sp syntax.Specifiers) error {
	a, err := syntax.Unescape(e.Argument)
	if err != nil {
		return fmt.Errorf("argument %q: %w", e.Argument, err)
	}
	if a, err = syntax.Expand(a, sp.Lookup); err != nil {
		return fmt.Errorf("argument %q: %w", e.Argument, err)
	}
	e.Argument = a
	return nil
}

// parseMode reads an octal mode of at most 07777.
func parseMode(s string) (fs.FileMode, error) {
	m, ok := syntax.OctalMode(s)
	if !ok {
		return 0, fmt.Errorf("bad mode %q: expected octal, at most 07777, after optional ~ and :", s)
	}
	return m, nil
}

// simplify is path_simplify: repeated slashes and "." components go, a
// trailing slash goes; ".." stays (it may not be resolved lexically).
func simplify(p string) string {
	parts := strings.Split(p, "/")
	out := parts[:0]
	for _, c := range parts {
		if c != "" && c != "." {
			out = append(out, c)
		}
	}
	return "/" + strings.Join(out, "/")
}

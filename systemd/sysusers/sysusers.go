// Package sysusers parses sysusers.d(5) files: the system users and
// groups a package declares. It only parses; each entry keeps its
// file:line so whatever creates the accounts can say where one came from.
package sysusers

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/systemd/syntax"
)

// Entry is one line.
type Entry struct {
	// Type is u (user and its group), g (group), m (member) or r (range).
	Type byte
	// Name is the user or group (u, g; the user for m); "" for r.
	Name string

	// UID of a u line if UIDSet ("-" is "allocate one").
	UID    uint32
	UIDSet bool
	// GID of a g line, or of a u line's primary group ("uid:gid"), if
	// GIDSet.
	GID    uint32
	GIDSet bool
	// Group is a u line's primary group by name ("uid:groupname"), or
	// the group an m line adds Name to.
	Group string
	// IDPath is a u or g line's ID given as a path: the id is the
	// file's owner (u) or group (g).
	IDPath string

	// From and To bound an r line's range (equal for a single id).
	From, To uint32

	// GECOS, Home and Shell of a u line, "" if not given.
	GECOS, Home, Shell string

	Pos config.Pos
}

// Parse reads a sysusers.d file; name is the path positions name. Every
// bad line is reported at its line.
func Parse(name string, data []byte, sp syntax.Specifiers) ([]Entry, error) {
	return syntax.Entries(name, data, func(l string, pos config.Pos) (Entry, error) {
		e, err := parseLine(l, sp)
		e.Pos = pos
		return e, err
	})
}

func parseLine(l string, sp syntax.Specifiers) (Entry, error) {
	f := make([]string, 6)
	n, rest, err := syntax.Fields(l, f)
	if err != nil {
		return Entry{}, err
	}
	if n < 2 {
		return Entry{}, fmt.Errorf("expected TYPE NAME [ID [GECOS [HOME [SHELL]]]]")
	}
	if rest != "" {
		return Entry{}, fmt.Errorf("trailing text %q after the shell field", rest)
	}
	action := f[0]
	if len(action) != 1 || strings.IndexByte("ugmr", action[0]) < 0 {
		return Entry{}, fmt.Errorf("unknown type %q: expected u, g, m or r", action)
	}
	e := Entry{Type: action[0]}
	// Each field: "-" or empty is unset; specifiers resolve.
	field := func(i int, what string) (string, error) {
		v := f[i]
		if v == "" || v == "-" {
			return "", nil
		}
		x, err := syntax.Expand(v, sp.Lookup)
		if err != nil {
			return "", fmt.Errorf("%s %q: %w", what, v, err)
		}
		return x, nil
	}
	var id string
	if e.Name, err = field(1, "name"); err != nil {
		return Entry{}, err
	}
	if e.Name != "" && !ValidName(e.Name) {
		return Entry{}, fmt.Errorf("%q is not a valid user or group name: expected [a-zA-Z_][a-zA-Z0-9_-]*, at most 31 characters", e.Name)
	}
	if id, err = field(2, "id"); err != nil {
		return Entry{}, err
	}
	if e.GECOS, err = field(3, "GECOS"); err != nil {
		return Entry{}, err
	}
	if e.GECOS != "" && !validText(e.GECOS, true) {
		return Entry{}, fmt.Errorf("%q is not a valid GECOS field: no colons or control characters", e.GECOS)
	}
	if e.Home, err = field(4, "home"); err != nil {
		return Entry{}, err
	}
	if e.Home != "" {
		if e.Home = path.Clean(e.Home); !strings.HasPrefix(e.Home, "/") || !validText(e.Home, true) {
			return Entry{}, fmt.Errorf("%q is not a valid home directory: expected an absolute path without colons", e.Home)
		}
	}
	if e.Shell, err = field(5, "shell"); err != nil {
		return Entry{}, err
	}
	if e.Shell != "" {
		if e.Shell = path.Clean(e.Shell); !strings.HasPrefix(e.Shell, "/") || !validText(e.Shell, true) {
			return Entry{}, fmt.Errorf("%q is not a valid login shell: expected an absolute path without colons", e.Shell)
		}
	}
	noUserFields := func() error {
		for _, x := range []struct{ v, name string }{{e.GECOS, "GECOS"}, {e.Home, "home"}, {e.Shell, "shell"}} {
			if x.v != "" {
				return fmt.Errorf("%c lines take no %s field", e.Type, x.name)
			}
		}
		return nil
	}

	switch e.Type {
	case 'r':
		if e.Name != "" {
			return Entry{}, fmt.Errorf("r lines take no name: expected \"-\"")
		}
		if id == "" {
			return Entry{}, fmt.Errorf("r lines need a range in the third field: FROM-TO or one id")
		}
		if err := noUserFields(); err != nil {
			return Entry{}, err
		}
		from, to, isRange := strings.Cut(id, "-")
		if e.From, err = parseID(from); err != nil {
			return Entry{}, fmt.Errorf("bad range %q: %w", id, err)
		}
		e.To = e.From
		if isRange {
			if e.To, err = parseID(to); err != nil {
				return Entry{}, fmt.Errorf("bad range %q: %w", id, err)
			}
			if e.From > e.To {
				return Entry{}, fmt.Errorf("bad range %q: start after end", id)
			}
		}
	case 'm':
		if e.Name == "" {
			return Entry{}, fmt.Errorf("m lines need a user name in the second field")
		}
		if id == "" {
			return Entry{}, fmt.Errorf("m lines need a group name in the third field")
		}
		if !ValidName(id) {
			return Entry{}, fmt.Errorf("%q is not a valid group name", id)
		}
		if err := noUserFields(); err != nil {
			return Entry{}, err
		}
		e.Group = id
	case 'u':
		if e.Name == "" {
			return Entry{}, fmt.Errorf("u lines need a user name in the second field")
		}
		switch {
		case id == "":
		case strings.HasPrefix(id, "/"):
			e.IDPath = path.Clean(id)
		default:
			uid, gid, pair := strings.Cut(id, ":")
			if pair {
				if g, err := parseID(gid); err == nil {
					e.GID, e.GIDSet = g, true
				} else if ValidName(gid) {
					e.Group = gid
				} else {
					return Entry{}, fmt.Errorf("bad GID %q: expected a number or a group name", gid)
				}
			}
			if uid != "-" {
				if e.UID, err = parseID(uid); err != nil {
					return Entry{}, fmt.Errorf("bad UID %q: %w", uid, err)
				}
				e.UIDSet = true
			}
		}
	case 'g':
		if e.Name == "" {
			return Entry{}, fmt.Errorf("g lines need a group name in the second field")
		}
		if err := noUserFields(); err != nil {
			return Entry{}, err
		}
		switch {
		case id == "":
		case strings.HasPrefix(id, "/"):
			e.IDPath = path.Clean(id)
		default:
			if e.GID, err = parseID(id); err != nil {
				return Entry{}, fmt.Errorf("bad GID %q: %w", id, err)
			}
			e.GIDSet = true
		}
	}
	return e, nil
}

// parseID reads a decimal uid or gid; 65535 and 4294967295 are not ids
// (the placeholders sysusers.d(5) reserves).
func parseID(s string) (uint32, error) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("expected a decimal id")
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%s is out of range", s)
	}
	if v == 65535 || v == 4294967295 {
		return 0, fmt.Errorf("%d is reserved", v)
	}
	return uint32(v), nil
}

// ValidName is systemd's strict user and group name rule.
func ValidName(s string) bool {
	if s == "" || len(s) > 31 {
		return false
	}
	for i, c := range []byte(s) {
		ok := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if i > 0 {
			ok = ok || c >= '0' && c <= '9' || c == '-'
		}
		if !ok {
			return false
		}
	}
	return true
}

// validText is UTF-8 without control characters, and without colons if
// noColon (passwd's field separator).
func validText(s string, noColon bool) bool {
	if !utf8.ValidString(s) || (noColon && strings.Contains(s, ":")) {
		return false
	}
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

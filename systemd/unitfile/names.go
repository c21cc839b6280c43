package unitfile

import (
	"fmt"
	"strings"
)

// Name is a unit name cut into its parts: "foo@bar.service" is prefix
// "foo", instance "bar", suffix "service"; a template "foo@.service" has
// Template true and no instance.
type Name struct {
	Full     string
	Prefix   string
	Instance string
	Suffix   string
	Template bool
}

// ParseName checks a unit name (systemd.unit(5)): PREFIX[@[INSTANCE]].SUFFIX.
func ParseName(s string) (Name, error) {
	dot := strings.LastIndexByte(s, '.')
	if dot <= 0 || dot == len(s)-1 {
		return Name{}, fmt.Errorf("unit name %q: expected NAME.TYPE", s)
	}
	if len(s) > 255 {
		return Name{}, fmt.Errorf("unit name %q: longer than 255 bytes", s)
	}
	n := Name{Full: s, Suffix: s[dot+1:]}
	base := s[:dot]
	for _, c := range []byte(base) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(":-_.\\@", c) >= 0) {
			return Name{}, fmt.Errorf("unit name %q: character %q not allowed", s, c)
		}
	}
	if p, inst, ok := strings.Cut(base, "@"); ok {
		if p == "" || strings.Contains(inst, "@") {
			return Name{}, fmt.Errorf("unit name %q: expected PREFIX@INSTANCE.TYPE", s)
		}
		n.Prefix, n.Instance, n.Template = p, inst, inst == ""
	} else {
		n.Prefix = base
	}
	return n, nil
}

// TemplateOf is the template an instance is made from: "foo@bar.service"
// gives "foo@.service"; ok is false for a name with no instance.
func TemplateOf(s string) (string, bool) {
	n, err := ParseName(s)
	if err != nil || n.Instance == "" {
		return "", false
	}
	return n.Prefix + "@." + n.Suffix, true
}

// Unescape undoes systemd-escape's escaping of a name part: "-" is "/",
// "\xNN" a byte.
func Unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '-':
			b.WriteByte('/')
		case s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x':
			if v, ok := hexByte(s[i+2 : i+4]); ok {
				b.WriteByte(v)
				i += 3
				continue
			}
			b.WriteByte(s[i])
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func hexByte(s string) (byte, bool) {
	var v byte
	for _, c := range []byte(s) {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | (c - '0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | (c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return v, true
}

// specifier is the value of a unit-name specifier of n (systemd.unit(5)).
func (n Name) specifier(c byte) (string, bool) {
	switch c {
	case 'n':
		return n.Full, true
	case 'N':
		return strings.TrimSuffix(n.Full, "."+n.Suffix), true
	case 'p':
		return n.Prefix, true
	case 'P':
		return Unescape(n.Prefix), true
	case 'i':
		return n.Instance, true
	case 'I':
		return Unescape(n.Instance), true
	case 'j':
		return n.Prefix[strings.LastIndexByte(n.Prefix, '-')+1:], true
	case 'J':
		return Unescape(n.Prefix[strings.LastIndexByte(n.Prefix, '-')+1:]), true
	case 'f':
		if n.Instance != "" {
			return "/" + strings.TrimPrefix(Unescape(n.Instance), "/"), true
		}
		return "/" + strings.TrimPrefix(Unescape(n.Prefix), "/"), true
	}
	return "", false
}

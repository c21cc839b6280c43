package unitfile

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/systemd/syntax"
)

// Var is one environment assignment, at the line that made it.
type Var struct {
	Name, Value string
	Pos         config.Pos
}

// parseEnvironment reads one Environment= value: assignments separated by
// whitespace, each quoted or not, C escapes interpreted.
func parseEnvironment(value string, pos config.Pos, spec func(string) (string, error)) ([]Var, error) {
	words, err := syntax.Words(value, syntax.Unquote|syntax.CUnescape)
	if err != nil {
		return nil, err
	}
	var out []Var
	for _, w := range words {
		w, err := spec(w)
		if err != nil {
			return nil, err
		}
		k, v, ok := strings.Cut(w, "=")
		if !ok || !validEnvName(k) || !validEnvValue(v) {
			return nil, fmt.Errorf("invalid environment assignment %q: expected NAME=VALUE", w)
		}
		out = append(out, Var{Name: k, Value: v, Pos: pos})
	}
	return out, nil
}

// validEnvName is env_name_is_valid: a shell variable name.
func validEnvName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, c := range []byte(s) {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// validEnvValue is env_value_is_valid: UTF-8 without control characters
// other than newline and tab.
func validEnvValue(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if (r < ' ' && r != '\n' && r != '\t') || r == 0x7f {
			return false
		}
	}
	return true
}

// ParseEnvironmentFile reads the variables of an EnvironmentFile= file,
// name being the path errors name (reading it is the caller's job). The
// format is systemd's (systemd.exec(5)): NAME=VALUE lines, "#" or ";"
// comments, values in single quotes taken verbatim, in double quotes with
// \" \\ \` \$ escapes, unquoted with a backslash escaping the next
// character; a backslash at a line's end continues the value (or the
// comment). An assignment whose name is invalid is skipped, as systemd
// skips it. Later assignments win; the order is kept.
func ParseEnvironmentFile(name string, data []byte) ([]Var, error) {
	if _, err := syntax.Lines(name, data); err != nil {
		return nil, err
	}
	const (
		preKey = iota
		key
		preValue
		value
		valueEscape
		singleQuote
		doubleQuote
		doubleQuoteEscape
		comment
		commentEscape
	)
	var out []Var
	state, line, start := preKey, 1, 1
	var k, v strings.Builder
	lastKeyWS, lastValueWS := -1, -1
	push := func() {
		kn := k.String()
		if lastKeyWS >= 0 {
			kn = kn[:lastKeyWS]
		}
		val := v.String()
		if lastValueWS >= 0 {
			val = val[:lastValueWS]
		}
		if validEnvName(kn) && validEnvValue(val) {
			out = append(out, Var{Name: kn, Value: val, Pos: config.Pos{File: name, Line: start}})
		}
		k.Reset()
		v.Reset()
		lastKeyWS, lastValueWS = -1, -1
	}
	ws := func(c byte) bool { return strings.IndexByte(syntax.Whitespace, c) >= 0 }
	nl := func(c byte) bool { return c == '\n' || c == '\r' }
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch state {
		case preKey:
			start = line
			switch {
			case c == '#' || c == ';':
				state = comment
			case !ws(c):
				state = key
				k.WriteByte(c)
			}
		case key:
			switch {
			case nl(c):
				state = preKey // a name without "=" is ignored
				k.Reset()
				lastKeyWS = -1
			case c == '=':
				state = preValue
				lastValueWS = -1
			default:
				if !ws(c) {
					lastKeyWS = -1
				} else if lastKeyWS < 0 {
					lastKeyWS = k.Len()
				}
				k.WriteByte(c)
			}
		case preValue:
			switch {
			case nl(c):
				state = preKey
				push()
			case c == '\'':
				state = singleQuote
			case c == '"':
				state = doubleQuote
			case c == '\\':
				state = valueEscape
			case !ws(c):
				state = value
				v.WriteByte(c)
			}
		case value:
			switch {
			case nl(c):
				state = preKey
				push()
			case c == '\\':
				state = valueEscape
				lastValueWS = -1
			default:
				if !ws(c) {
					lastValueWS = -1
				} else if lastValueWS < 0 {
					lastValueWS = v.Len()
				}
				v.WriteByte(c)
			}
		case valueEscape:
			state = value
			if !nl(c) {
				v.WriteByte(c)
			}
		case singleQuote:
			if c == '\'' {
				state = preValue
			} else {
				v.WriteByte(c)
			}
		case doubleQuote:
			switch c {
			case '"':
				state = preValue
			case '\\':
				state = doubleQuoteEscape
			default:
				v.WriteByte(c)
			}
		case doubleQuoteEscape:
			state = doubleQuote
			switch {
			case strings.IndexByte("\"\\`$", c) >= 0:
				v.WriteByte(c)
			case c == '\n':
			default:
				v.WriteByte('\\')
				v.WriteByte(c)
			}
		case comment:
			if c == '\\' {
				state = commentEscape
			} else if nl(c) {
				state = preKey
			}
		case commentEscape:
			state = comment
		}
		if c == '\n' {
			line++
		}
	}
	switch state {
	case preValue, value, valueEscape, singleQuote, doubleQuote, doubleQuoteEscape:
		push()
	}
	return out, nil
}

// Env is the environment Exec*= lines expand from: Environment='s
// assignments, then each EnvironmentFile='s in order (a file's settings
// override Environment=, as systemd.exec(5) says); a later assignment of
// a name wins.
func Env(environment []Var, files ...[]Var) map[string]string {
	out := map[string]string{}
	for _, vs := range append([][]Var{environment}, files...) {
		for _, v := range vs {
			out[v.Name] = v.Value
		}
	}
	return out
}

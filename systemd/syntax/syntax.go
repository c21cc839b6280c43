// Package syntax holds the lexical rules systemd's declarative formats
// share (systemd.syntax(7)): bounded line reading, word splitting with
// quotes and C escapes, "%" specifiers and time spans. It only parses;
// nothing here touches the system.
package syntax

import (
	"bytes"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/unit-os/unit/config"
)

// Limits on input read from packages (i.e. from the network): a file is
// at most MaxFile bytes, a logical line (continuations joined) at most
// MaxLine.
const (
	MaxFile = 1 << 20
	MaxLine = 64 << 10
)

// Whitespace is systemd's WHITESPACE.
const Whitespace = " \t\n\r"

// Line is one physical line of a file, numbered from 1.
type Line struct {
	N    int
	Text string
}

// Lines splits data, the file name, into lines after checking the bounds
// every format shares: the size, NUL bytes, and each line's length. A
// leading UTF-8 byte-order mark is dropped and "\r\n" ends a line like
// "\n".
func Lines(name string, data []byte) ([]Line, error) {
	if len(data) > MaxFile {
		return nil, fmt.Errorf("%s: file is %d bytes; at most %d", name, len(data), MaxFile)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var out []Line
	for n := 1; len(data) > 0; n++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) > MaxLine {
			return nil, config.Error{Pos: config.Pos{File: name, Line: n},
				Msg: fmt.Sprintf("line is %d bytes; at most %d", len(line), MaxLine)}
		}
		if bytes.IndexByte(line, 0) >= 0 {
			return nil, config.Error{Pos: config.Pos{File: name, Line: n}, Msg: "NUL byte in line"}
		}
		out = append(out, Line{N: n, Text: string(line)})
	}
	return out, nil
}

// Flags choose the rules of one extraction, as extract_first_word's do.
type Flags int

const (
	// Unquote removes '...' and "..." (anywhere in a word, as systemd's
	// implementation does) and keeps what is inside as one word.
	Unquote Flags = 1 << iota
	// CUnescape interprets C escapes (\n, \x41, \s, ...); an unknown
	// escape is an error. Without it a backslash keeps the next byte.
	CUnescape
	// RetainEscape keeps backslashes and what follows them verbatim.
	RetainEscape
	// Relax accepts an unterminated quote and drops a trailing backslash.
	Relax
)

// Word cuts the first word off s: leading whitespace is skipped; ok is
// false when s holds no word. rest starts at the next word.
func Word(s string, flags Flags) (word, rest string, ok bool, err error) {
	i := 0
	for i < len(s) && strings.IndexByte(Whitespace, s[i]) >= 0 {
		i++
	}
	if i == len(s) {
		return "", "", false, nil
	}
	var b strings.Builder
	var quote byte
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\\' && flags&RetainEscape != 0:
			b.WriteByte(c)
			if i+1 < len(s) {
				b.WriteByte(s[i+1])
				i++
			}
			i++
		case c == '\\':
			if i+1 == len(s) {
				if flags&Relax != 0 {
					// EXTRACT_RELAX eats a trailing backslash.
					return b.String(), "", true, nil
				}
				return "", "", false, fmt.Errorf("trailing backslash")
			}
			if flags&CUnescape != 0 {
				r, n, err := unescapeOne(s[i+1:])
				if err != nil {
					return "", "", false, err
				}
				b.WriteString(r)
				i += 1 + n
			} else {
				b.WriteByte(s[i+1])
				i += 2
			}
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				b.WriteByte(c)
			}
			i++
		case (c == '\'' || c == '"') && flags&Unquote != 0:
			quote = c
			i++
		case strings.IndexByte(Whitespace, c) >= 0:
			for i < len(s) && strings.IndexByte(Whitespace, s[i]) >= 0 {
				i++
			}
			return b.String(), s[i:], true, nil
		default:
			b.WriteByte(c)
			i++
		}
	}
	if quote != 0 && flags&Relax == 0 {
		return "", "", false, fmt.Errorf("unterminated %c quote", quote)
	}
	return b.String(), "", true, nil
}

// Words splits all of s.
func Words(s string, flags Flags) ([]string, error) {
	var out []string
	for {
		w, rest, ok, err := Word(s, flags)
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		out = append(out, w)
		s = rest
	}
}

// Unescape interprets every C escape of s (systemd's cunescape).
func Unescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", fmt.Errorf("trailing backslash")
		}
		r, n, err := unescapeOne(s[i+1:])
		if err != nil {
			return "", err
		}
		b.WriteString(r)
		i += n
	}
	return b.String(), nil
}

// unescapeOne decodes the escape at the start of s (after the backslash):
// what it stands for and how many bytes of s it took (cunescape_one).
func unescapeOne(s string) (string, int, error) {
	switch s[0] {
	case 'a':
		return "\a", 1, nil
	case 'b':
		return "\b", 1, nil
	case 'f':
		return "\f", 1, nil
	case 'n':
		return "\n", 1, nil
	case 'r':
		return "\r", 1, nil
	case 't':
		return "\t", 1, nil
	case 'v':
		return "\v", 1, nil
	case '\\', '"', '\'':
		return s[:1], 1, nil
	case 's':
		return " ", 1, nil
	case 'x':
		v, ok := hexVal(s[1:], 2)
		if !ok || v == 0 {
			return "", 0, fmt.Errorf("bad escape \\%s", clip(s, 3))
		}
		return string([]byte{byte(v)}), 3, nil
	case 'u', 'U':
		n := 4
		if s[0] == 'U' {
			n = 8
		}
		v, ok := hexVal(s[1:], n)
		if !ok || v == 0 || v > utf8.MaxRune || (v >= 0xd800 && v <= 0xdfff) {
			return "", 0, fmt.Errorf("bad escape \\%s", clip(s, n+1))
		}
		return string(rune(v)), n + 1, nil
	case '0', '1', '2', '3', '4', '5', '6', '7':
		if len(s) < 3 {
			return "", 0, fmt.Errorf("bad escape \\%s", s)
		}
		v := 0
		for _, c := range []byte(s[:3]) {
			if c < '0' || c > '7' {
				return "", 0, fmt.Errorf("bad escape \\%s", s[:3])
			}
			v = v*8 + int(c-'0')
		}
		if v == 0 || v > 255 {
			return "", 0, fmt.Errorf("bad escape \\%s", s[:3])
		}
		return string([]byte{byte(v)}), 3, nil
	}
	r, _ := utf8.DecodeRuneInString(s)
	return "", 0, fmt.Errorf("unknown escape \\%c", r)
}

func clip(s string, n int) string { return s[:min(n, len(s))] }

func hexVal(s string, n int) (uint32, bool) {
	if len(s) < n {
		return 0, false
	}
	var v uint32
	for _, c := range []byte(s[:n]) {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		v = v<<4 | uint32(d)
	}
	return v, true
}

// Quote writes s as one word that Word(Unquote|CUnescape) reads back as s.
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c == 0x7f:
			fmt.Fprintf(&b, "\\x%02x", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Entries parses a line-based declaration file (tmpfiles.d, sysusers.d):
// blank lines and comments are skipped, each other line goes to parse, and
// every bad line is reported at its line.
func Entries[E any](name string, data []byte, parse func(line string, pos config.Pos) (E, error)) ([]E, error) {
	lines, err := Lines(name, data)
	if err != nil {
		return nil, err
	}
	var out []E
	var errs config.Errors
	for _, ln := range lines {
		l := strings.Trim(ln.Text, Whitespace)
		if l == "" || l[0] == '#' {
			continue
		}
		pos := config.Pos{File: name, Line: ln.N}
		e, err := parse(l, pos)
		if err != nil {
			errs = append(errs, config.Error{Pos: pos, Msg: err.Error()})
			continue
		}
		out = append(out, e)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// Fields splits l into at most len(f) words (quotes and C escapes
// honoured) and returns how many it found and the text after the last.
func Fields(l string, f []string) (n int, rest string, err error) {
	rest = l
	for n < len(f) {
		w, r, ok, err := Word(rest, Unquote|CUnescape)
		if err != nil {
			return n, rest, err
		}
		if !ok {
			break
		}
		f[n], rest = w, r
		n++
	}
	return n, rest, nil
}

// OctalMode reads an octal access mode of at most 07777 (digits only),
// with its setuid, setgid and sticky bits; ok is false for anything else.
func OctalMode(s string) (m fs.FileMode, ok bool) {
	if s == "" || strings.Trim(s, "01234567") != "" {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o7777 {
		return 0, false
	}
	m = fs.FileMode(v & 0o777)
	if v&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if v&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if v&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m, true
}

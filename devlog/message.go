// Package devlog is the syslog socket every Debian daemon expects at
// /dev/log: it reads datagrams with the sender's kernel-checked
// credentials, parses the syslog line, and hands each message to whoever
// runs it (the daemon adds it to the sending service's log). A leaf: it
// knows nothing of services.
package devlog

import (
	"bytes"
	"strconv"
	"strings"
	"time"
)

// Message is one syslog datagram, parsed.
type Message struct {
	Time     time.Time // when it was received
	PID      int32     // the sender, from SCM_CREDENTIALS (0: unknown)
	UID, GID uint32
	Facility int    // 0..23 (LOG_DAEMON is 3)
	Severity int    // 0 emerg .. 7 debug
	Tag      string // the program name the sender gave ("haproxy")
	TagPID   string // the pid it put in brackets, as written
	Text     string
	// Truncated: the datagram was longer than the buffer and lost its tail.
	Truncated bool
}

// severities are syslog's names of the levels, indexed by severity.
var severities = [...]string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// SeverityName is the syslog name of a severity ("err"), or its number.
func SeverityName(s int) string {
	if s >= 0 && s < len(severities) {
		return severities[s]
	}
	return strconv.Itoa(s)
}

// defaultPriority is what a message without <PRI> gets: user.notice, as
// RFC 3164 says a relay should assume.
const defaultPriority = 1<<3 | 5

// Parse reads one syslog message as glibc's syslog(3), logger(1) and the
// RFC 3164 / 5424 senders write it: "<PRI>", an optional timestamp (and in
// 5424 a version, host and app fields), "TAG[PID]: " and the text. What
// does not parse stays in Text: nothing a sender writes is lost or fatal.
func Parse(b []byte) Message {
	m := Message{Facility: defaultPriority >> 3, Severity: defaultPriority & 7}
	b = bytes.TrimRight(b, "\n\x00")
	if pri, rest, ok := priority(b); ok {
		m.Facility, m.Severity = pri>>3, pri&7
		b = rest
	}
	if rest, ok := rfc5424(b, &m); ok {
		m.Text = string(rest)
		return m
	}
	b = skipTimestamp(b)
	b = tag(b, &m)
	m.Text = string(b)
	return m
}

// priority reads "<N>" with N at most 191 (facility 23, severity 7).
func priority(b []byte) (int, []byte, bool) {
	if len(b) < 3 || b[0] != '<' {
		return 0, b, false
	}
	end := bytes.IndexByte(b[:min(len(b), 5)], '>')
	if end < 2 {
		return 0, b, false
	}
	n, err := strconv.Atoi(string(b[1:end]))
	if err != nil || n < 0 || n > 191 {
		return 0, b, false
	}
	return n, b[end+1:], true
}

// skipTimestamp drops an RFC 3164 timestamp ("Dec  6 01:02:03 "): the
// receive time is the one unit keeps, as journald does.
func skipTimestamp(b []byte) []byte {
	const layout = "Jan _2 15:04:05 "
	if len(b) < len(layout) {
		return b
	}
	if _, err := time.Parse(layout, string(b[:len(layout)])); err != nil {
		return b
	}
	return b[len(layout):]
}

// tag reads "TAG[PID]: " or "TAG: ". A tag is at most 48 bytes of
// printable characters without spaces (RFC 3164 says 32; glibc writes the
// program name, which can be longer).
func tag(b []byte, m *Message) []byte {
	const maxTag = 48
	end := bytes.IndexByte(b[:min(len(b), maxTag+2+12)], ':')
	if end <= 0 || end+1 < len(b) && b[end+1] != ' ' {
		return b
	}
	t := b[:end]
	if bytes.ContainsAny(t, " \t") {
		return b
	}
	if open := bytes.IndexByte(t, '['); open > 0 && t[len(t)-1] == ']' {
		pid := t[open+1 : len(t)-1]
		if _, err := strconv.Atoi(string(pid)); err != nil {
			return b
		}
		m.TagPID = string(pid)
		t = t[:open]
	}
	if len(t) == 0 || len(t) > maxTag || bytes.IndexFunc(t, notTagRune) >= 0 {
		return b
	}
	m.Tag = string(t)
	return bytes.TrimPrefix(b[end+1:], []byte(" "))
}

// notTagRune: a tag is a program name, letters, digits and ._-/+@.
func notTagRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	}
	return !strings.ContainsRune("._-/+@", r)
}

// rfc5424 reads "1 TIMESTAMP HOST APP PROCID MSGID SD MSG" after <PRI>.
func rfc5424(b []byte, m *Message) ([]byte, bool) {
	if !bytes.HasPrefix(b, []byte("1 ")) {
		return b, false
	}
	f := bytes.SplitN(b[2:], []byte(" "), 6)
	if len(f) < 5 {
		return b, false
	}
	if app := string(f[2]); app != "-" {
		m.Tag = app
	}
	if procid := string(f[3]); procid != "-" {
		m.TagPID = procid
	}
	if len(f) < 6 {
		return nil, true
	}
	rest := f[5]
	// Structured data: "-" or one or more [ ... ] elements; unit keeps the
	// text after them.
	switch {
	case bytes.HasPrefix(rest, []byte("- ")):
		rest = rest[2:]
	case bytes.Equal(rest, []byte("-")):
		rest = nil
	case len(rest) > 0 && rest[0] == '[':
		if i := bytes.Index(rest, []byte("] ")); i >= 0 {
			rest = rest[i+2:]
		}
	}
	return bytes.TrimPrefix(rest, []byte("\xef\xbb\xbf")), true
}

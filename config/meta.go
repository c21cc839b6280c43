package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Meta is what every resource table has, whatever its kind: its name (the
// part of the id after the colon: a path, a user name, a sysctl key), where
// it was defined, and, while the config is being loaded, the line of each
// of its keys. Every kind embeds it, so the loader keeps one set of books.
type Meta struct {
	// Name is the table's key: [dir."/srv"] has the name "/srv".
	Name string `toml:"-"`
	Pos  Pos    `toml:"-"`
	// From is where the resource was declared outside unit's files, as
	// "FILE:LINE" (a tmpfiles.d line, for the tables an image build
	// writes into /usr/lib/unit): once loaded, Pos is that place, and
	// every error about the resource names it.
	From string `toml:"from"`
	kind string
	// keys are the lines of the file the table is in, while the config
	// is being loaded: of each key (At), and whether it was written
	// (Set). elsewhere: From named the place, which At gives for every
	// key. declared are the keys taken from elsewhere (a unit file), at
	// their lines there.
	keys      *fileKeys
	elsewhere bool
	declared  map[string]Pos
	// rank is the layer of the file the table is in (layers.go), while
	// the config is being loaded: a higher one's table replaces it.
	rank int
}

// fileKeys are one file's key lines: one for all the tables in it,
// indexed on the first question (an error, a key's line kept, Set): a
// valid file of [file] tables never asks one.
type fileKeys struct {
	file string
	data []byte
	idx  Lines
	// resources are the resources' own lines, by KIND\x00NAME, when the
	// file was decoded in chunks (chunkPlan.cuts); nil otherwise.
	resources map[string]int
}

func (f *fileKeys) lines() Lines {
	if f.idx == nil {
		f.idx = IndexLines(f.data)
	}
	return f.idx
}

func (f *fileKeys) at(keys ...string) Pos {
	if len(keys) == 2 && f.resources != nil {
		var buf [256]byte
		if l, ok := f.resources[string(joinKey(buf[:0], keys))]; ok {
			return Pos{File: f.file, Line: l}
		}
	}
	return Pos{File: f.file, Line: f.lines().Line(keys...)}
}

// ID is the resource id of a loaded resource, e.g. "dir:/srv".
func (m *Meta) ID() string { return m.kind + ":" + m.Name }

// At is the position of a key inside the resource's table (file:line), for
// errors found after loading, e.g. by the engine's cycle check. Once a
// config is valid the per-key lines are dropped and At is the table's line.
func (m *Meta) At(key string) Pos {
	if p, ok := m.declared[key]; ok {
		return p
	}
	if m.keys == nil || m.elsewhere || key == "" {
		return m.Pos
	}
	return m.keys.at(m.kind, m.Name, key)
}

func (m *Meta) meta() *Meta { return m }

// Origin is the from key: where the resource was declared outside unit's
// files ("" for a table of unit's own).
func (m *Meta) Origin() string { return m.From }

// parseFrom reads a from key: FILE:LINE, LINE 1 or more.
func parseFrom(s string) (Pos, error) {
	i := strings.LastIndexByte(s, ':')
	if i > 0 && !strings.ContainsAny(s, "\n") {
		if n, err := strconv.Atoi(s[i+1:]); err == nil && n > 0 {
			return Pos{File: s[:i], Line: n}, nil
		}
	}
	return Pos{}, fmt.Errorf("from = %q: expected FILE:LINE, e.g. \"/usr/lib/tmpfiles.d/haproxy.conf:1\"", s)
}

// Set reports whether the resource's own table wrote key (while the
// config is being loaded; false for a resource made outside a file).
func (m *Meta) Set(key string) bool { return m.keys != nil && m.keys.lines().Has(m.kind, m.Name, key) }

// Declare records that key was declared at p, outside a TOML file (a
// systemd unit file's line): At(key) is then p, so an error about the
// key points there.
func (m *Meta) Declare(key string, p Pos) {
	if m.declared == nil {
		m.declared = map[string]Pos{}
	}
	m.declared[key] = p
}

// Edges are the keys every configuration-management resource shares:
// ordering, notification, and the audit and purge modes.
type Edges struct {
	// Requires lists ids ("dir:/srv", "user:www") converged before this one.
	Requires []string `toml:"requires"`
	// Notify lists ids refreshed after this one really changed: a service is
	// restarted, a refresh_only exec is run.
	Notify []string `toml:"notify"`
	// Audit reports drift without repairing it.
	Audit bool `toml:"audit"`
	// Purge removes the thing from the system when the resource is removed
	// from the config (the default leaves it in place).
	Purge bool `toml:"purge"`
}

// Modes are the resource's own audit and purge keys.
func (e *Edges) Modes() (audit, purge bool) { return e.Audit, e.Purge }

func (e *Edges) edgeList() (requires, notify []string) { return e.Requires, e.Notify }

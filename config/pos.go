package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// Pos is where something was defined: a file and a 1-based line.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string {
	if p.File == "" {
		return "<builtin>"
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Lines maps key paths to the line they start on, so that semantic errors
// found after decoding (which loses positions) can still name file:line.
// Array elements are addressed by index: ("source", "1", "sha256").
type Lines map[string]int

// IndexLines walks the TOML syntax tree of data once.
func IndexLines(data []byte) Lines {
	idx := Lines{}
	p := unstable.Parser{}
	p.Reset(data)
	ls := newLineStarts(data)
	counts := map[string]int{}
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table:
			table = keyParts(e.Key())
			idx.add(table, lineOfKey(ls, e))
		case unstable.ArrayTable:
			k := keyParts(e.Key())
			j := strings.Join(k, "\x00")
			table = append(k, strconv.Itoa(counts[j]))
			counts[j]++
			idx.add(table, lineOfKey(ls, e))
		case unstable.KeyValue:
			k := append(append([]string{}, table...), keyParts(e.Key())...)
			idx.add(k, lineOfKey(ls, e))
			idx.value(ls, k, e.Value())
		}
	}
	return idx
}

// maxIndexDepth is the deepest path indexed: the loader refuses deeper
// keys (limits.go) before it indexes, and recipes and locks never come
// near it. A deeper path's line is its deepest indexed prefix's.
const maxIndexDepth = MaxKeyParts + MaxNesting

func (idx Lines) add(path []string, line int) {
	path = path[:min(len(path), maxIndexDepth)]
	// Every prefix gets the first line it was seen on. The prefixes are
	// cut from one joined string, so a path costs its length, not its
	// length squared.
	full := strings.Join(path, "\x00")
	end := 0
	for _, part := range path {
		end += len(part)
		if _, ok := idx[full[:end]]; !ok {
			idx[full[:end]] = line
		}
		end++ // the separator
	}
}

// value indexes the elements of inline tables and arrays.
func (idx Lines) value(ls lineStarts, prefix []string, v *unstable.Node) {
	if v == nil {
		return
	}
	switch v.Kind {
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			kv := it.Node()
			if kv.Kind != unstable.KeyValue {
				continue
			}
			k := append(append([]string{}, prefix...), keyParts(kv.Key())...)
			idx.add(k, lineOfKey(ls, kv))
			idx.value(ls, k, kv.Value())
		}
	case unstable.Array:
		it := v.Children()
		for i := 0; it.Next(); i++ {
			el := it.Node()
			k := append(append([]string{}, prefix...), strconv.Itoa(i))
			if l := firstLine(ls, el); l > 0 {
				idx.add(k, l)
			}
			idx.value(ls, k, el)
		}
	}
}

// firstLine is the line of the first part of v that has a position:
// containers (arrays, inline tables) carry none of their own.
func firstLine(ls lineStarts, v *unstable.Node) int {
	if v.Raw.Length > 0 {
		return ls.line(v.Raw.Offset)
	}
	if v.Kind == unstable.KeyValue {
		return lineOfKey(ls, v)
	}
	it := v.Children()
	for it.Next() {
		if l := firstLine(ls, it.Node()); l > 0 {
			return l
		}
	}
	return 0
}

// lineOfKey is the line of a table header's or key-value's first key
// (expression nodes carry no range of their own).
func lineOfKey(ls lineStarts, kv *unstable.Node) int {
	it := kv.Key()
	if it.Next() && it.Node().Raw.Length > 0 {
		return ls.line(it.Node().Raw.Offset)
	}
	if v := kv.Value(); v != nil && v.Raw.Length > 0 {
		return ls.line(v.Raw.Offset)
	}
	return 0
}

// lineStarts holds the offset of every line's first byte. Parser.Shape
// counts lines from the start of the document on every call, which made
// indexing quadratic (70 ms for 1,000 tables); a binary search is not.
type lineStarts []int

func newLineStarts(data []byte) lineStarts {
	ls := lineStarts{0}
	for i, b := range data {
		if b == '\n' {
			ls = append(ls, i+1)
		}
	}
	return ls
}

// line is the 1-based line holding byte offset off.
func (ls lineStarts) line(off uint32) int {
	return sort.Search(len(ls), func(i int) bool { return ls[i] > int(off) })
}

func keyParts(it unstable.Iterator) []string {
	var parts []string
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	return parts
}

// Line is the line of the longest known prefix of path, 0 if none.
func (idx Lines) Line(path ...string) int {
	path = path[:min(len(path), maxIndexDepth)]
	full := strings.Join(path, "\x00")
	end := len(full)
	for n := len(path); n > 0; n-- {
		if l, ok := idx[full[:end]]; ok {
			return l
		}
		end -= len(path[n-1]) + 1
	}
	return 0
}

// Has reports whether path itself was written (not only a prefix of it).
func (idx Lines) Has(path ...string) bool {
	if len(path) > maxIndexDepth {
		return false
	}
	_, ok := idx[strings.Join(path, "\x00")]
	return ok
}

package config

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"

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
	ix := newIndexer(data)
	p := unstable.Parser{}
	p.Reset(data)
	for p.NextExpression() {
		ix.expression(p.Expression())
	}
	return ix.idx
}

// indexer indexes a file expression by expression.
type indexer struct {
	ls     lineStarts
	idx    Lines
	counts map[string]int // [[array tables]] seen, by path
	table  keyPath        // the current table's path
	key    keyPath        // scratch: a key-value's path
}

func newIndexer(data []byte) *indexer {
	ls := newLineStarts(data)
	// About a key a line: sized once, not grown.
	return &indexer{ls: ls, idx: make(Lines, len(ls)), counts: map[string]int{}}
}

func (ix *indexer) expression(e *unstable.Node) {
	switch e.Kind {
	case unstable.Table:
		ix.table.reset()
		ix.table.pushKey(e.Key())
		ix.idx.add(&ix.table, lineOfKey(ix.ls, e))
	case unstable.ArrayTable:
		ix.table.reset()
		ix.table.pushKey(e.Key())
		line := lineOfKey(ix.ls, e)
		j := string(ix.table.b)
		ix.table.push(strconv.AppendInt(nil, int64(ix.counts[j]), 10))
		ix.counts[j]++
		ix.idx.add(&ix.table, line)
	case unstable.KeyValue:
		ix.key.set(&ix.table)
		ix.key.pushKey(e.Key())
		ix.idx.add(&ix.key, lineOfKey(ix.ls, e))
		ix.idx.value(ix.ls, &ix.key, e.Value())
	}
}

// keyPath is a key's parts joined by NULs, as Lines is keyed, with where
// each part ends: built in place, it costs no allocation per key.
type keyPath struct {
	b    []byte
	ends []int
}

func (k *keyPath) len() int { return len(k.ends) }

func (k *keyPath) reset() { k.b, k.ends = k.b[:0], k.ends[:0] }

func (k *keyPath) set(from *keyPath) {
	k.b, k.ends = append(k.b[:0], from.b...), append(k.ends[:0], from.ends...)
}

func (k *keyPath) push(part []byte) {
	if len(k.ends) > 0 {
		k.b = append(k.b, 0)
	}
	k.b = append(k.b, part...)
	k.ends = append(k.ends, len(k.b))
}

func (k *keyPath) pushKey(it unstable.Iterator) {
	for it.Next() {
		k.push(it.Node().Data)
	}
}

// truncate keeps the first n parts.
func (k *keyPath) truncate(n int) {
	k.ends = k.ends[:n]
	if n == 0 {
		k.b = k.b[:0]
	} else {
		k.b = k.b[:k.ends[n-1]]
	}
}

// maxIndexDepth is the deepest path indexed: the loader refuses deeper
// keys (limits.go) before it indexes, and recipes and locks never come
// near it. A deeper path's line is its deepest indexed prefix's.
const maxIndexDepth = MaxKeyParts + MaxNesting

// add gives every prefix of path that has none the line. A path's new
// prefixes are cut from one string, so a path costs its length, not its
// length squared, and one allocation at most.
func (idx Lines) add(path *keyPath, line int) {
	n := min(path.len(), maxIndexDepth)
	if n == 0 {
		return
	}
	full := ""
	for _, end := range path.ends[:n] {
		if full != "" {
			if _, ok := idx[full[:end]]; !ok {
				idx[full[:end]] = line
			}
			continue
		}
		if _, ok := idx[string(path.b[:end])]; !ok {
			full = string(path.b[:path.ends[n-1]])
			idx[full[:end]] = line
		}
	}
}

// value indexes the elements of inline tables and arrays.
func (idx Lines) value(ls lineStarts, prefix *keyPath, v *unstable.Node) {
	if v == nil {
		return
	}
	n := prefix.len()
	switch v.Kind {
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			kv := it.Node()
			if kv.Kind != unstable.KeyValue {
				continue
			}
			prefix.pushKey(kv.Key())
			idx.add(prefix, lineOfKey(ls, kv))
			idx.value(ls, prefix, kv.Value())
			prefix.truncate(n)
		}
	case unstable.Array:
		it := v.Children()
		var num [20]byte
		for i := 0; it.Next(); i++ {
			el := it.Node()
			prefix.push(strconv.AppendInt(num[:0], int64(i), 10))
			if l := firstLine(ls, el); l > 0 {
				idx.add(prefix, l)
			}
			idx.value(ls, prefix, el)
			prefix.truncate(n)
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
	ls := make(lineStarts, 1, bytes.Count(data, []byte{'\n'})+1)
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

// Line is the line of the longest known prefix of path, 0 if none.
func (idx Lines) Line(path ...string) int {
	path = path[:min(len(path), maxIndexDepth)]
	var buf [256]byte
	full := joinKey(buf[:0], path)
	end := len(full)
	for n := len(path); n > 0; n-- {
		if l, ok := idx[string(full[:end])]; ok {
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
	var buf [256]byte
	_, ok := idx[string(joinKey(buf[:0], path))]
	return ok
}

// joinKey appends path joined by NULs to b: a lookup by it allocates
// nothing, as one by strings.Join's string would.
func joinKey(b []byte, path []string) []byte {
	for i, p := range path {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	return b
}

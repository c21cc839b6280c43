package config

import (
	"fmt"
	"sort"
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

// posIndex maps dotted key paths ("service.web.exec") to the line they start on,
// so that semantic errors found after decoding can still name file:line.
type posIndex map[string]int

// indexPositions walks the TOML syntax tree; decoding into structs loses
// positions, so we keep them on the side.
func indexPositions(data []byte) posIndex {
	idx := posIndex{}
	p := unstable.Parser{}
	p.Reset(data)
	lines := newLineStarts(data)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = keyParts(e.Key())
			idx.add(table, lineOfKey(lines, e))
		case unstable.KeyValue:
			k := append(append([]string{}, table...), keyParts(e.Key())...)
			line := lineOfKey(lines, e)
			idx.add(k, line)
			indexInline(idx, lines, k, e.Value())
		}
	}
	return idx
}

func (idx posIndex) add(path []string, line int) {
	// Every prefix gets the first line it was seen on.
	for i := 1; i <= len(path); i++ {
		k := strings.Join(path[:i], "\x00")
		if _, ok := idx[k]; !ok {
			idx[k] = line
		}
	}
}

func indexInline(idx posIndex, lines lineStarts, prefix []string, v *unstable.Node) {
	if v == nil || v.Kind != unstable.InlineTable {
		return
	}
	it := v.Children()
	for it.Next() {
		kv := it.Node()
		if kv.Kind != unstable.KeyValue {
			continue
		}
		k := append(append([]string{}, prefix...), keyParts(kv.Key())...)
		idx.add(k, lineOfKey(lines, kv))
		indexInline(idx, lines, k, kv.Value())
	}
}

// lineOfKey is the line of a table header's or key-value's first key
// (expression nodes carry no range of their own).
func lineOfKey(lines lineStarts, kv *unstable.Node) int {
	it := kv.Key()
	if it.Next() && it.Node().Raw.Length > 0 {
		return lines.line(it.Node().Raw.Offset)
	}
	if v := kv.Value(); v != nil && v.Raw.Length > 0 {
		return lines.line(v.Raw.Offset)
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

// line returns the line of the longest known prefix of path.
func (idx posIndex) line(path ...string) int {
	for n := len(path); n > 0; n-- {
		if l, ok := idx[strings.Join(path[:n], "\x00")]; ok {
			return l
		}
	}
	return 0
}

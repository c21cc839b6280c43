package config

import (
	"fmt"
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
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = keyParts(e.Key())
			idx.add(table, lineOfKey(&p, e))
		case unstable.KeyValue:
			k := append(append([]string{}, table...), keyParts(e.Key())...)
			line := lineOfKey(&p, e)
			idx.add(k, line)
			indexInline(idx, &p, k, e.Value())
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

func indexInline(idx posIndex, p *unstable.Parser, prefix []string, v *unstable.Node) {
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
		idx.add(k, lineOfKey(p, kv))
		indexInline(idx, p, k, kv.Value())
	}
}

// lineOfKey is the line of a table header's or key-value's first key
// (expression nodes carry no range of their own).
func lineOfKey(p *unstable.Parser, kv *unstable.Node) int {
	it := kv.Key()
	if it.Next() && it.Node().Raw.Length > 0 {
		return p.Shape(it.Node().Raw).Start.Line
	}
	if v := kv.Value(); v != nil && v.Raw.Length > 0 {
		return p.Shape(v.Raw).Start.Line
	}
	return 0
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

package pkgbuild

import (
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// lines maps key paths to the line they start on. Decoding into structs
// loses positions, so they are kept on the side for semantic errors.
// Array elements are addressed by index: "source.1.sha256", "install.0".
type lines map[string]int

func indexLines(data []byte) lines {
	idx := lines{}
	p := unstable.Parser{}
	p.Reset(data)
	counts := map[string]int{}
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table:
			table = keyParts(e.Key())
			idx.add(table, lineOf(&p, e))
		case unstable.ArrayTable:
			k := keyParts(e.Key())
			j := strings.Join(k, ".")
			table = append(k, strconv.Itoa(counts[j]))
			counts[j]++
			idx.add(table, lineOf(&p, e))
		case unstable.KeyValue:
			k := append(append([]string{}, table...), keyParts(e.Key())...)
			idx.add(k, lineOf(&p, e))
			idx.value(&p, k, e.Value())
		}
	}
	return idx
}

func (idx lines) add(path []string, line int) {
	for i := 1; i <= len(path); i++ {
		k := strings.Join(path[:i], ".")
		if _, ok := idx[k]; !ok {
			idx[k] = line
		}
	}
}

// value indexes the elements of inline tables and arrays.
func (idx lines) value(p *unstable.Parser, prefix []string, v *unstable.Node) {
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
			idx.add(k, lineOf(p, kv))
			idx.value(p, k, kv.Value())
		}
	case unstable.Array:
		it := v.Children()
		for i := 0; it.Next(); i++ {
			el := it.Node()
			k := append(append([]string{}, prefix...), strconv.Itoa(i))
			if l := firstLine(p, el); l > 0 {
				idx.add(k, l)
			}
			idx.value(p, k, el)
		}
	}
}

// firstLine is the line of the first part of v that has a position:
// containers (arrays, inline tables) carry none of their own.
func firstLine(p *unstable.Parser, v *unstable.Node) int {
	if v.Raw.Length > 0 {
		return p.Shape(v.Raw).Start.Line
	}
	if v.Kind == unstable.KeyValue {
		return lineOf(p, v)
	}
	it := v.Children()
	for it.Next() {
		if l := firstLine(p, it.Node()); l > 0 {
			return l
		}
	}
	return 0
}

func lineOf(p *unstable.Parser, kv *unstable.Node) int {
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

// line is the line of the longest known prefix of path.
func (idx lines) line(path ...string) int {
	for n := len(path); n > 0; n-- {
		if l, ok := idx[strings.Join(path[:n], ".")]; ok {
			return l
		}
	}
	return 1
}

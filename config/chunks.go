package config

import (
	"bytes"
	"reflect"

	"github.com/pelletier/go-toml/v2"
)

// The decoder's duplicate-key tracker searches every key seen so far for
// each table header, so one file of n resources cost it n² (10,000
// [file] tables: 0.3 s of a 0.4 s load). A valid file is decoded in
// chunks of about chunkTables tables instead, each chunk into the same
// document: linear in n. Only a valid file: on any error the whole file
// is decoded again in one piece, so every message and line is the
// decoder's own.
const chunkTables = 64

// header is a table header: where its line starts, and its first two
// key parts joined by a NUL (its resource) at
// chunkPlan.keys[off:off+two], the first alone at [off:off+first]. Two
// keys may join alike ("a\x00b" and a.b): that only keeps more in one
// chunk.
type header struct {
	start, line     int
	off, first, two int
}

// chunkPlan is where a file may be cut; ok is false when it may not
// (keys before the first header, a syntax error).
type chunkPlan struct {
	headers []header
	keys    []byte // the headers' first parts, one after the other
	ok      bool
}

// newChunkPlan is a plan sized for data's headers: at most its lines
// that start with '[', holding at most those lines' bytes.
func newChunkPlan(data []byte) chunkPlan {
	lines, size := 0, 0
	for rest := data; len(rest) > 0; {
		end := bytes.IndexByte(rest, '\n') + 1
		if end == 0 {
			end = len(rest)
		}
		if rest[0] == '[' {
			lines, size = lines+1, size+end
		}
		rest = rest[end:]
	}
	return chunkPlan{ok: true, headers: make([]header, 0, lines), keys: make([]byte, 0, size)}
}

// add notes a header at line with its key path.
func (p *chunkPlan) add(ls lineStarts, line int, key *keyPath) {
	if line < 1 || key.len() == 0 {
		p.ok = false
		return
	}
	h := header{start: ls[line-1], line: line, off: len(p.keys), first: key.ends[0], two: key.ends[min(key.len(), 2)-1]}
	p.keys = append(p.keys, key.b[:h.two]...)
	p.headers = append(p.headers, h)
}

// cuts returns the offsets the file is cut at, or nil when cutting could
// change what the decoder makes of it or hide an error from it. A
// resource's headers ([file."/a"], [file."/a".vars]) must be contiguous,
// and are never cut apart: the decoder clears an array table the first
// time it sees it, and sees a duplicate only within one chunk. Under a
// one-part header ([file], which may define "/a".mode = ... itself), the
// whole table is one such group.
//
// With the cuts come the resources' lines, by "KIND\x00NAME" (as Lines
// is keyed): a resource's first header, where nothing else could have
// named it first, so its line without indexing the file.
func (p chunkPlan) cuts() ([]int, map[string]int) {
	if !p.ok || len(p.headers) <= chunkTables {
		return nil, nil
	}
	var whole map[string]bool
	for _, h := range p.headers {
		if h.first == h.two {
			if whole == nil {
				whole = map[string]bool{}
			}
			whole[string(p.keys[h.off:h.off+h.first])] = true
		}
	}
	keys := string(p.keys) // groups are cut from it, none copied
	seen := make(map[string]int, len(p.headers))
	var cuts []int
	prev := ""
	n := 0
	for i, h := range p.headers {
		g := keys[h.off : h.off+h.two]
		if whole[g[:h.first]] {
			g = g[:h.first]
		}
		if i > 0 && g == prev {
			n++
			continue
		}
		if _, ok := seen[g]; ok {
			return nil, nil
		}
		seen[g] = h.line
		if n >= chunkTables {
			cuts = append(cuts, h.start)
			n = 0
		}
		prev = g
		n++
	}
	if cuts == nil {
		return nil, nil
	}
	for g := range whole {
		delete(seen, g) // a whole table's groups are not resources
	}
	return cuts, seen
}

// decodeChunks decodes data cut at cuts into a new document; false if
// any chunk failed.
func decodeChunks(data []byte, cuts []int) (reflect.Value, bool) {
	doc := reflect.New(rows().docType).Elem()
	start := 0
	for i := 0; i <= len(cuts); i++ {
		end := len(data)
		if i < len(cuts) {
			end = cuts[i]
		}
		dec := toml.NewDecoder(bytes.NewReader(data[start:end]))
		dec.DisallowUnknownFields()
		if dec.Decode(doc.Addr().Interface()) != nil {
			return reflect.Value{}, false
		}
		start = end
	}
	return doc, true
}

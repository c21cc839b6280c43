package config

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// filler is n [file] resources named /DIR/fN.
func filler(dir string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "[file.\"/%s/f%d\"]\ncontent = \"%d\\n\"\nmode = \"0644\"\n", dir, i, i)
	}
	return b.String()
}

// A valid file of many tables is cut, between resources, and decodes to
// what the whole file decodes to.
func TestChunkedDecodeIsWholeDecode(t *testing.T) {
	src := "[system]\nhostname = \"h\"\n" + filler("a", 3*chunkTables) +
		"[service.web]\nexec = [\"httpd\"]\n[service.web.limits]\nmemory = \"64M\"\n" +
		"[service.web.env]\nA = \"1\"\n" + filler("b", chunkTables) + "[sysctl]\n\"net.ipv4.ip_forward\" = { value = \"1\" }\n"
	data := []byte(src)
	plan, errs := scanFile("a.toml", data)
	if errs != nil {
		t.Fatal(errs)
	}
	cuts, lines := plan.cuts()
	if len(cuts) < 3 {
		t.Fatalf("cuts %v: want the file in 4 chunks or more", cuts)
	}
	for _, c := range cuts {
		if c == 0 || data[c-1] != '\n' || !strings.HasPrefix(src[c:], "[file.") {
			t.Errorf("cut at %d, not before a resource's header: %.30q", c, src[c:])
		}
	}
	// A resource's line from the plan is the index's.
	idx := IndexLines(data)
	if len(lines) != 3*chunkTables+chunkTables+1 {
		t.Errorf("%d resources' lines, want %d", len(lines), 4*chunkTables+1)
	}
	for g, l := range lines {
		kind, name, _ := strings.Cut(g, "\x00")
		if want := idx.Line(kind, name); l != want {
			t.Errorf("%s %s: line %d, the index says %d", kind, name, l, want)
		}
	}
	chunked, ok := decodeChunks(data, cuts)
	if !ok {
		t.Fatal("chunked decode failed")
	}
	whole, errs := decodeWhole("a.toml", data, &fileKeys{file: "a.toml", data: data})
	if errs != nil {
		t.Fatal(errs)
	}
	if !reflect.DeepEqual(chunked.Interface(), whole.Interface()) {
		t.Error("chunked and whole decodes differ")
	}
}

// What the decoder refuses only when it sees the whole file is still
// refused, with its own words: such a file is not cut, or fails a chunk
// and is decoded whole.
func TestChunkedDecodeKeepsErrors(t *testing.T) {
	fill, fill2 := filler("srv", 2*chunkTables), filler("var", 2*chunkTables)
	for name, src := range map[string]string{
		"dotted under a one-part header, then its header": "[file]\n\"/a\".content = \"x\"\n" + fill + "[file.\"/a\"]\nmode = \"0600\"\n",
		"one-part header twice":                           "[file]\n\"/a\".content = \"x\"\n" + fill + "[file]\n\"/b\".content = \"y\"\n",
		"a resource's headers apart":                      "[file.\"/a\"]\ncontent = \"x\"\n" + fill + "[file.\"/a\"]\nmode = \"0600\"\n",
		"[system] twice":                                  "[system]\nhostname = \"a\"\n" + fill + "[system]\nhostname = \"b\"\n",
		"keys before the first header":                    "file.\"/a\".content = \"x\"\n" + fill + "[file.\"/a\"]\nmode = \"0600\"\n",
		"inline table, then a header into it":             "[service]\nweb = { exec = [\"x\"] }\n" + fill + "[service.web.env]\nA = \"1\"\n",
		"a duplicate within a chunk":                      fill + "[file.\"/a\"]\ncontent = \"x\"\n[file.\"/a\"]\ncontent = \"y\"\n" + fill2,
		"unknown key in a later chunk":                    fill + "[file.\"/a\"]\ncontnt = \"x\"\n" + fill2,
		"type error in a later chunk":                     fill + "[file.\"/a\"]\ncontent = 1\n" + fill2,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := write(t, dir, "a.toml", src)
			_, err := Load(dir)
			if err == nil {
				t.Fatal("loaded")
			}
			_, want := decodeWhole(path, []byte(src), &fileKeys{file: path, data: []byte(src)})
			if want == nil {
				t.Fatal("the whole decode took it")
			}
			if !strings.Contains(err.Error(), want[0].Error()) {
				t.Errorf("got %v\nwant %v", err, want[0])
			}
			if !strings.Contains(err.Error(), filepath.Base(path)+":") {
				t.Errorf("no file:line: %v", err)
			}
		})
	}
}

// Indexing a key costs at most the one string its new prefixes are cut
// from (and the parser its escaped strings' copies): a config of
// thousands of resources is indexed on every load.
func TestIndexLinesAllocations(t *testing.T) {
	data := []byte(filler("srv", 1000))
	keys := 3 * 1000 // each resource's table and two keys
	allocs := testing.AllocsPerRun(5, func() { IndexLines(data) })
	if perKey := allocs / float64(keys); perKey > 2 {
		t.Errorf("%.0f allocations, %.2f a key: want at most 2", allocs, perKey)
	}
	idx := IndexLines(data)
	if idx.Line("file", "/srv/f999", "mode") != 3000 || !idx.Has("file", "/srv/f0", "content") || idx.Has("file", "/srv/f0", "owner") {
		t.Error("index is wrong")
	}
	if allocs := testing.AllocsPerRun(5, func() { idx.Line("file", "/srv/f999", "mode") }); allocs != 0 {
		t.Errorf("Line allocates %.0f times", allocs)
	}
}

package config

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// loadErr loads src as the layer node.n.toml over an empty local file
// (the path a fleet layer takes) and returns the error text with the
// directory cut, "" if it loaded.
func loadErr(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	layers := filepath.Join(dir, LayerDir)
	os.Mkdir(layers, 0o755)
	write(t, dir, "a.toml", "")
	write(t, layers, "node.n.toml", src)
	_, err := Load(dir)
	if err == nil {
		return ""
	}
	return strings.ReplaceAll(err.Error(), layers+"/", "")
}

// Each limit at the limit (no limit error, decoded as usual) and one
// past it (refused with file:line, before decoding).
func TestLimits(t *testing.T) {
	dotted := func(n int) string { return strings.Repeat("a.", n-1) + "a" }
	nested := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	pad := func(size int, tail string) string {
		head := "# " + strings.Repeat("x", size-len(tail)-3) + "\n"
		return head + tail
	}
	const ok = `[service.web]
exec = ["httpd"]
`
	for _, c := range []struct {
		name, at, past, want string
	}{
		{"file size", pad(MaxFileSize, ok), pad(MaxFileSize+1, ok),
			"node.n.toml:3: the file is larger than 1048576 bytes, the most a config file may be"},
		// A header's parts, and a key's own parts added to its table's.
		{"header parts", "[" + dotted(MaxKeyParts) + "]\n", "[" + dotted(MaxKeyParts+1) + "]\n",
			"node.n.toml:1: key has 17 parts; at most 16"},
		{"key parts", "[service.web]\n" + dotted(MaxKeyParts-2) + " = 1\n", "[service.web]\n" + dotted(MaxKeyParts-1) + " = 1\n",
			"node.n.toml:2: key has 17 parts; at most 16"},
		{"inline key parts", "[service]\nweb = { " + dotted(MaxKeyParts-2) + " = 1 }\n", "[service]\nweb = { " + dotted(MaxKeyParts-1) + " = 1 }\n",
			"node.n.toml:2: key has 17 parts; at most 16"},
		{"key length", `[file."/` + strings.Repeat("x", MaxKeyLen-1) + `"]` + "\ncontent = \"x\"\n",
			`[file."/` + strings.Repeat("x", MaxKeyLen) + `"]` + "\ncontent = \"x\"\n",
			"node.n.toml:1: a key part is 4097 bytes long; at most 4096"},
		{"arrays", "[service.web]\nexec = " + nested(MaxNesting) + "\n", "[service.web]\nexec = " + nested(MaxNesting+1) + "\n",
			"node.n.toml:2: arrays and inline tables nested more than 16 deep"},
		// Arrays of inline tables: each table adds a key part too.
		{"inline tables", "x = " + strings.Repeat("[{a=", MaxNesting/2) + "1" + strings.Repeat("}]", MaxNesting/2) + "\n",
			"x = " + strings.Repeat("[{a=", MaxNesting/2) + "[\n1]" + strings.Repeat("}]", MaxNesting/2) + "\n",
			"node.n.toml:2: arrays and inline tables nested more than 16 deep"},
		// The decoder's duplicate-key tracker is quadratic in these.
		{"tables", manyTables(MaxTables), manyTables(MaxTables + 1),
			"node.n.toml:16385: more than 16384 tables in one file"},
		{"table keys", "[sysctl]\n" + manyKeys(MaxTableKeys), "[sysctl]\n" + manyKeys(MaxTableKeys+1),
			"node.n.toml:4098: more than 4096 keys in one table"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if errs := checkLimits("x.toml", []byte(c.at)); errs != nil {
				t.Errorf("at the limit: %v", errs)
			}
			if got := loadErr(t, c.at); strings.Contains(got, "at most") || strings.Contains(got, "larger than") {
				t.Errorf("at the limit, loading: %s", got)
			}
			if got := loadErr(t, c.past); got != c.want {
				t.Errorf("one past the limit:\n got %.300s\nwant %s", got, c.want)
			}
		})
	}
}

// manyTables is n [dir] tables; manyKeys is n keys of one table.
func manyTables(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "[dir.\"/d%d\"]\n", i)
	}
	return b.String()
}

func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "\"k.%d\" = \"1\"\n", i)
	}
	return b.String()
}

// The finding: a 40 KB header of 20,000 parts took 742 MB. It is now
// refused in one pass, and loading costs memory linear in the input: the
// bytes allocated for 2n parts are about twice those for n (quadratic
// would be four times). Counted, not timed.
func TestDeepKeyLinear(t *testing.T) {
	deep := func(n int) []byte { return []byte("[" + strings.Repeat("a.", n) + "b]\nx = 1\n") }
	allocs := func(f func()) uint64 {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		f()
		runtime.ReadMemStats(&m1)
		return m1.TotalAlloc - m0.TotalAlloc
	}
	data := deep(20000)
	_, _, errs := parse("big.toml", data)
	if len(errs) != 1 || errs[0].Error() != "big.toml:1: key has 20001 parts; at most 16" {
		t.Fatalf("errors: %.300v", errs)
	}
	for name, f := range map[string]func([]byte){
		"parse":      func(b []byte) { parse("big.toml", b) },
		"IndexLines": func(b []byte) { IndexLines(b) }, // recipes and locks use it alone
	} {
		n, n2 := allocs(func() { f(deep(20000)) }), allocs(func() { f(deep(40000)) })
		if n2 > n*5/2 {
			t.Errorf("%s: %d bytes for 20,000 parts, %d for 40,000: not linear", name, n, n2)
		}
		if n > uint64(len(data))*200 {
			t.Errorf("%s: %d bytes allocated for %d bytes of input", name, n, len(data))
		}
	}
}

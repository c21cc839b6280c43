// Package toml compares the two TOML decoders the project could use,
// pelletier/go-toml/v2 (what config/ and pkgbuild/ use) and
// BurntSushi/toml (what docs/design.md once named), on the project's own
// files and on the large and hostile cases config/limits.go guards.
//
//	go test -bench . -benchmem ./bench/toml/
//	go test -v -run . ./bench/toml/   # positions, strictness, error texts
package toml

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/pkgbuild"
)

// doc is one config file as config decodes it (config's docType: a field
// per top-level table).
type doc struct {
	System  *config.System             `toml:"system"`
	CM      *config.CM                 `toml:"cm"`
	Web     *config.Web                `toml:"web"`
	Fleet   *config.Fleet              `toml:"fleet"`
	Metrics *config.Metrics            `toml:"metrics"`
	Service map[string]*config.Service `toml:"service"`
	File    map[string]*config.File    `toml:"file"`
	Net     map[string]*config.Net     `toml:"net"`
	Dir     map[string]*config.Dir     `toml:"dir"`
	Link    map[string]*config.Link    `toml:"link"`
	User    map[string]*config.User    `toml:"user"`
	Group   map[string]*config.Group   `toml:"group"`
	Sysctl  map[string]*config.Sysctl  `toml:"sysctl"`
	Module  map[string]*config.Module  `toml:"module"`
	Mount   map[string]*config.Mount   `toml:"mount"`
	Package map[string]*config.Package `toml:"package"`
	Exec    map[string]*config.Exec    `toml:"exec"`
	Tmpfile map[string]*config.Tmpfile `toml:"tmpfile"`
	Check   map[string]*config.Check   `toml:"check"`
}

// input is one file and the Go value it decodes into; a heavy one is
// for the benchmark only (a second or more of quadratic work each).
type input struct {
	name  string
	data  []byte
	into  func() any
	heavy bool
}

func newDoc() any     { return new(doc) }
func newRecipe() any  { return new(pkgbuild.Recipe) }
func newLock() any    { return new(pkgbuild.Lock) }
func newGeneric() any { return new(map[string]any) }

// inputs are the project's files (read from the repository) and the
// generated cases, in a fixed order.
func inputs(tb testing.TB) []input {
	tb.Helper()
	var in []input
	add := func(glob string, into func() any) {
		paths, err := filepath.Glob(filepath.Join("..", "..", glob))
		if err != nil || len(paths) == 0 {
			tb.Fatalf("no files match %s", glob)
		}
		sort.Strings(paths)
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				tb.Fatal(err)
			}
			rel, _ := filepath.Rel(filepath.Join("..", ".."), p)
			in = append(in, input{name: rel, data: data, into: into})
		}
	}
	add("examples/*/*.toml", newDoc)
	add("packages/*.toml", newRecipe)
	add("packages/*.lock", newLock)
	in = append(in,
		input{"gen/layer-node", []byte(layer()), newDoc, false},
		input{"gen/services-1000", []byte(services(1000)), newDoc, false},
		input{"gen/files-1000", []byte(files(1000)), newDoc, false},
		input{"gen/files-10000", []byte(files(10000)), newDoc, true},
		input{"gen/keys-5000", []byte(envKeys(5000)), newDoc, true},
		input{"gen/keys-10000", []byte(envKeys(10000)), newDoc, true},
		input{"gen/keys-20000", []byte(envKeys(20000)), newDoc, true},
		input{"gen/deep-key-16", []byte(deepKey(16)), newGeneric, false},
		input{"gen/deep-key-500", []byte(deepKey(500)), newGeneric, true},
		input{"gen/deep-key-1000", []byte(deepKey(1000)), newGeneric, true},
		input{"gen/deep-key-2000", []byte(deepKey(2000)), newGeneric, true},
	)
	return in
}

// layer is a fleet layer as unit-fleet put writes one: a service, a file
// and a sysctl for one node.
func layer() string {
	return `[service.agent]
exec = ["/usr/bin/agent", "--listen", ":9100"]
env = { LOG = "info" }
restart = "always"
ready = "tcp:9100"

[file."/etc/agent.conf"]
mode = "0640"
content = """
listen = ":9100"
"""
notify = ["service:agent"]

[sysctl."net.core.somaxconn"]
value = "1024"
`
}

// services is n services of the size the examples have.
func services(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "[service.svc%d]\nexec = [\"/bin/svc\", \"--id\", \"%d\", \"--port\", \"%d\"]\n", i, i, 10000+i)
		fmt.Fprintf(&b, "env = { ID = \"%d\", MODE = \"prod\" }\nrestart = \"always\"\nready = \"tcp:%d\"\n", i, 10000+i)
		if i > 0 {
			fmt.Fprintf(&b, "requires = [\"service:svc%d\"]\n", i-1)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// files is n [file] tables: the case figures.md found quadratic in
// go-toml's duplicate-key tracker.
func files(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "[file.\"/etc/gen/f%05d\"]\nmode = \"0644\"\ncontent = \"%d\\n\"\n", i, i)
	}
	return b.String()
}

// envKeys is one table of n keys: go-toml's duplicate-key tracker scans
// every earlier key per key.
func envKeys(n int) string {
	var b strings.Builder
	b.WriteString("[service.w]\nexec = [\"w\"]\n[service.w.env]\n")
	for i := range n {
		fmt.Fprintf(&b, "K%d = \"v\"\n", i)
	}
	return b.String()
}

// deepKey is one dotted key of n parts: 16 is config's limit, which
// limits.go checks before any decoder sees the file (BurntSushi's cost
// grows with the square of the parts).
func deepKey(n int) string {
	return strings.Repeat("a.", n-1) + "a = 1\n"
}

package pkgbuild

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unit-os/unit/config"
)

func TestParseGood(t *testing.T) {
	r, err := Parse("ok.toml", []byte(`
name = "tool"
version = "1.0"
revision = 2
description = "a tool"
deps = ["lib"]
build_deps = ["cc"]
env = { FOO = "bar" }
[[source]]
local = "src"
[[source]]
url = "https://example.org/x.tar.gz"
sha256 = "`+strings.Repeat("ab", 32)+`"
strip = 0
dest = "x"
[[install]]
symlink = "usr/bin/t"
target = "tool"
[[install]]
chmod = "usr/bin/tool"
mode = "0755"
`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Builder != "none" || len(r.Sources) != 2 || r.Sources[1].Kind() != "url" || *r.Sources[1].Strip != 0 {
		t.Errorf("parsed %+v", r)
	}
}

// TestParseOneSourceDeb: `deb = "redis-server"` is a whole recipe; the
// lock gives its version.
func TestParseOneSourceDeb(t *testing.T) {
	r, err := Parse("x.toml", []byte("name = \"redis\"\n[[source]]\ndeb = \"redis-server\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != Candidate || r.Sources[0].Version != Candidate || !r.Sources[0].WithDeps() || r.debClosureSource() != 0 {
		t.Errorf("parsed %+v", r)
	}
	off := false
	if (Source{Deb: "x", Deps: &off}).WithDeps() || (Source{Local: "x"}).WithDeps() {
		t.Error("WithDeps true for deps = false or a local source")
	}
}

// TestParseErrors: every mistake names the recipe's file and line.
func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, text, want string
	}{
		{"unknown top-level key", "name = \"a\"\nversion = \"1\"\nstesp = []\n", `x.toml:3: unknown key "stesp"`},
		{"unknown source key", "name = \"a\"\nversion = \"1\"\n[[source]]\nlocal = \"s\"\n\n[[source]]\nlocal = \"t\"\nshaa256 = \"x\"\n", `x.toml:8: unknown key "source.shaa256"`},
		{"steps after a source table", "name = \"a\"\nversion = \"1\"\n[[source]]\nlocal = \"s\"\nsteps = [[\"true\"]]\n", `x.toml:5: unknown key "source.steps"`},
		{"bad sha256", "name = \"a\"\nversion = \"1\"\n\n[[source]]\nurl = \"https://x/y\"\nsha256 = \"abc\"\n", `x.toml:6: sha256 "abc"`},
		{"url without sha256", "name = \"a\"\nversion = \"1\"\n[[source]]\nurl = \"https://x/y\"\n", `x.toml:3: url source: sha256 is required`},
		{"two kinds", "name = \"a\"\nversion = \"1\"\n[[source]]\nlocal = \"s\"\ndeb = \"d\"\n", `x.toml:3: source 1: set exactly one of`},
		{"missing name", "version = \"1\"\nsteps = [[\"true\"]]\n", `x.toml:1: name is required`},
		{"bad builder", "name = \"a\"\nversion = \"1\"\nbuilder = \"cmake\"\nsteps = [[\"true\"]]\n", `x.toml:3: builder "cmake"`},
		{"empty step", "name = \"a\"\nversion = \"1\"\nsteps = [\n  [\"true\"],\n  [\"\", \"x\"],\n]\n", `x.toml:5: step 2: empty command`},
		{"install escapes the keg", "name = \"a\"\nversion = \"1\"\nsteps = [[\"true\"]]\n[[install]]\ndelete = \"../etc\"\n", `x.toml:4: install 1: path "../etc"`},
		{"chmod without mode", "name = \"a\"\nversion = \"1\"\nsteps = [[\"true\"]]\n[[install]]\nchmod = \"bin/x\"\n", `x.toml:4: install 1: chmod needs mode`},
		{"candidate without Debian source", "name = \"a\"\nversion = \"candidate\"\nsteps = [[\"true\"]]\n", `x.toml:2: version "candidate" needs`},
		{"type error", "name = \"a\"\nversion = 1\n", `x.toml:2:`},
		{"deps on a local source", "name = \"a\"\nversion = \"1\"\n[[source]]\nlocal = \"s\"\ndeps = false\n", `x.toml:5: deps is only for deb sources`},
		{"via with deps", "name = \"a\"\n[[source]]\ndeb = \"linux-image-*\"\nvia = \"linux-image-amd64\"\n", `x.toml:4: via picks one package`},
		{"two deb closures", "name = \"a\"\n[[source]]\ndeb = \"x\"\n[[source]]\ndeb = \"y\"\n", `x.toml:4: source 2: one deb source with deps`},
		{"deb alone needs a version", "name = \"a\"\n[[source]]\ndeb = \"x\"\ndeps = false\n", `x.toml:2: deb source: version is required`},
		{"self dependency", "name = \"a\"\nversion = \"1\"\nsteps = [[\"true\"]]\ndeps = [\"b\", \"a\"]\n", `x.toml:4: deps: "a"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("x.toml", []byte(c.text))
			if err == nil {
				t.Fatalf("no error; want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q\nwant it to contain %q", err, c.want)
			}
			var errs config.Errors
			if !errors.As(err, &errs) {
				t.Errorf("error is %T, want config.Errors", err)
			}
		})
	}
}

// TestRealRecipesParse: the recipes in packages/ are valid.
func TestRealRecipesParse(t *testing.T) {
	files, _ := filepath.Glob("../packages/*.toml")
	if len(files) < 4 {
		t.Fatalf("found %d recipes in packages/", len(files))
	}
	rs, err := LoadRecipes(files)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Description == "" {
			t.Errorf("%s: no description", r.File)
		}
	}
	if _, err := os.Stat("../packages/hello.toml"); err != nil {
		t.Fatal(err)
	}
}

func TestParseCandidate(t *testing.T) {
	out := "busybox-static:\n  Installed: (none)\n  Candidate: 1:1.35.0-4+deb12u1+b1\n  Version table:\n"
	if v, err := ParseCandidate([]byte(out)); err != nil || v != "1:1.35.0-4+deb12u1+b1" {
		t.Fatalf("got %q, %v", v, err)
	}
	if _, err := ParseCandidate([]byte("x:\n  Installed: (none)\n  Candidate: (none)\n")); err == nil {
		t.Fatal("no error for Candidate: (none)")
	}
}

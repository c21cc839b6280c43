package toml

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	burnt "github.com/BurntSushi/toml"
	pelletier "github.com/pelletier/go-toml/v2"
)

// bad is a mistake a user makes, and the line it is on.
var bad = []struct {
	name, src string
	line      int
}{
	{"syntax: leading zero", "[file.\"/x\"]\ncontent = \"\"\nmode = 0644\n", 3},
	{"syntax: unterminated string", "[service.web]\nexec = [\"x]\n", 2},
	{"duplicate table", "[service.a]\nexec = [\"x\"]\n[service.a]\nexec = [\"y\"]\n", 3},
	{"unknown key", "[service.web]\nexec = [\"x\"]\nrestrat = \"always\"\n", 3},
	{"type: string for list", "[service.web]\nexec = \"httpd -f\"\n", 2},
	{"type: integer for string", "[file.\"/x\"]\ncontent = \"\"\nmode = 644\n", 3},
	{"text: bad duration", "[check.a]\nhttp = \"http://x/\"\nwithin = \"soon\"\n", 3},
}

// where is the line, key and message an error gives, as config reads them.
func wherePelletier(err error) (line int, key, msg string) {
	var strict *pelletier.StrictMissingError
	var derr *pelletier.DecodeError
	switch {
	case errors.As(err, &strict):
		line, _ = strict.Errors[0].Position()
		return line, strings.Join(strict.Errors[0].Key(), "."), strict.Errors[0].Error()
	case errors.As(err, &derr):
		line, _ = derr.Position()
		return line, strings.Join(derr.Key(), "."), derr.Error()
	}
	return 0, "", err.Error()
}

// whereBurnt: a ParseError has a position and the last key; Undecoded
// keys (strictness) have none.
func whereBurnt(md burnt.MetaData, err error) (line int, key, msg string) {
	var perr burnt.ParseError
	if errors.As(err, &perr) {
		return perr.Position.Line, perr.LastKey, perr.Error()
	}
	if err != nil {
		return 0, "", err.Error()
	}
	if u := md.Undecoded(); len(u) > 0 {
		return 0, u[0].String(), fmt.Sprintf("undecoded keys %v", u)
	}
	return 0, "", ""
}

// TestErrorPositions shows (go test -v) what each decoder says about each
// mistake, and checks what docs/figures.md states: go-toml gives the line
// (and key) of every kind of mistake as fields, an unknown key's
// included; BurntSushi gives a line as a field for syntax errors and a
// text type's own errors, only inside the message for a type mismatch,
// and none for an unknown key (Undecoded is keys without positions).
func TestErrorPositions(t *testing.T) {
	for _, c := range bad {
		pl, pk, pm := wherePelletier(decodePelletier([]byte(c.src), new(doc)))
		md, err := burnt.NewDecoder(bytes.NewReader([]byte(c.src))).Decode(new(doc))
		bl, bk, bm := whereBurnt(md, err)
		t.Logf("%s:\n  pelletier  line %d key %q: %s\n  burntsushi line %d key %q: %s", c.name, pl, pk, pm, bl, bk, bm)
		if pl != c.line {
			t.Errorf("%s: pelletier says line %d, want %d", c.name, pl, c.line)
		}
		if strings.HasPrefix(c.name, "syntax") || strings.HasPrefix(c.name, "text") {
			if bl != c.line {
				t.Errorf("%s: BurntSushi says line %d, want %d", c.name, bl, c.line)
			}
		} else if strings.HasPrefix(c.name, "type") || c.name == "unknown key" {
			if bl != 0 {
				t.Errorf("%s: BurntSushi now gives a line (%d): docs/figures.md is out of date", c.name, bl)
			}
		}
	}
}

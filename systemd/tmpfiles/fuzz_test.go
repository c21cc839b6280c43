package tmpfiles

import (
	"reflect"
	"strings"
	"testing"

	"github.com/unit-os/unit/config"
)

// FuzzTmpfiles: no input panics Parse, and every entry, written back
// with Line, parses to the same entry.
func FuzzTmpfiles(f *testing.F) {
	for _, s := range []string{
		"d /run/haproxy 2775 haproxy haproxy -\n",
		"f+! /run/nologin 0644 - - - \"x\" y\\x20%t\n",
		"Z /run/log/journal/%m ~2750 root :systemd-journal ~bA:1h30s -\n",
		"c /dev/x - - - - 1:3\nL /a\nw /a - - - - \\\\%%\n",
		"f~ /a - - - - aGk=\nf^ /b - - - - cred\na+ /c - - - - u:x:r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		es, err := Parse("f", data, sp())
		if err != nil {
			return
		}
		var lines []string
		for _, e := range es {
			lines = append(lines, e.Line())
		}
		again, err := Parse("f", []byte(strings.Join(lines, "\n")), sp())
		if err != nil {
			t.Fatalf("written back, does not parse: %v\n%q", err, lines)
		}
		if len(again) != len(es) {
			t.Fatalf("%d entries, %d written back", len(es), len(again))
		}
		for i := range es {
			es[i].Pos, again[i].Pos = config.Pos{}, config.Pos{}
			if !reflect.DeepEqual(es[i], again[i]) {
				t.Fatalf("line %q\n got  %+v\n want %+v", lines[i], again[i], es[i])
			}
		}
	})
}

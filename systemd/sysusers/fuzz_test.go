package sysusers

import (
	"reflect"
	"strings"
	"testing"

	"github.com/unit-os/unit/config"
)

// FuzzSysusers: no input panics Parse, and every entry, written back
// with Line, parses to the same entry.
func FuzzSysusers(f *testing.F) {
	for _, s := range []string{
		"u httpd 404 \"HTTP User\"\nu _authd /usr/bin/authd\n",
		"u postgres - \"Postgresql Database\" /var/lib/pgsql /libexec/postgresdb\n",
		"g input - -\nm _authd input\nr - 500-900\nu a -:grp\nu b 1:2\n",
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

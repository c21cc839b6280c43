package sysusers

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/systemd/syntax"
)

func sp() syntax.Specifiers {
	s := syntax.System()
	s.Host = "box"
	return s
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		line string
		want Entry
	}{
		{`u httpd 404 "HTTP User"`, Entry{Type: 'u', Name: "httpd", UID: 404, UIDSet: true, GECOS: "HTTP User"}},
		{`u _authd /usr/bin/authd "Authorization user"`, Entry{Type: 'u', Name: "_authd", IDPath: "/usr/bin/authd", GECOS: "Authorization user"}},
		{`u postgres - "Postgresql Database" /var/lib/pgsql /libexec/postgresdb`, Entry{Type: 'u', Name: "postgres", GECOS: "Postgresql Database", Home: "/var/lib/pgsql", Shell: "/libexec/postgresdb"}},
		{`u haproxy`, Entry{Type: 'u', Name: "haproxy"}},
		{`u a 100:200`, Entry{Type: 'u', Name: "a", UID: 100, UIDSet: true, GID: 200, GIDSet: true}},
		{`u a 100:web`, Entry{Type: 'u', Name: "a", UID: 100, UIDSet: true, Group: "web"}},
		{`u a -:web`, Entry{Type: 'u', Name: "a", Group: "web"}},
		{`u a - "%H user" //var//lib/a/ /bin/sh`, Entry{Type: 'u', Name: "a", GECOS: "box user", Home: "/var/lib/a", Shell: "/bin/sh"}},
		{`u root 0 "Super User" /root`, Entry{Type: 'u', Name: "root", UIDSet: true, GECOS: "Super User", Home: "/root"}},
		{`g input - -`, Entry{Type: 'g', Name: "input"}},
		{`g adm        4     -`, Entry{Type: 'g', Name: "adm", GID: 4, GIDSet: true}},
		{`g tty /dev/tty`, Entry{Type: 'g', Name: "tty", IDPath: "/dev/tty"}},
		{`m _authd input`, Entry{Type: 'm', Name: "_authd", Group: "input"}},
		{`r - 500-900`, Entry{Type: 'r', From: 500, To: 900}},
		{`r - 42`, Entry{Type: 'r', From: 42, To: 42}},
		{`u "quoted" "1"`, Entry{Type: 'u', Name: "quoted", UID: 1, UIDSet: true}},
	} {
		es, err := Parse("t.conf", []byte("# c\n\n"+tc.line+"\n"), sp())
		if err != nil {
			t.Errorf("%s: %v", tc.line, err)
			continue
		}
		if len(es) != 1 || es[0].Pos != (config.Pos{File: "t.conf", Line: 3}) {
			t.Errorf("%s: %+v, want one entry at t.conf:3", tc.line, es)
			continue
		}
		es[0].Pos = config.Pos{}
		if !reflect.DeepEqual(es[0], tc.want) {
			t.Errorf("%s\n got  %+v\n want %+v", tc.line, es[0], tc.want)
		}
	}
}

func TestErrors(t *testing.T) {
	for line, want := range map[string]string{
		"x a":                          `unknown type "x"`,
		"u! a":                         `unknown type "u!"`,
		"u":                            "expected TYPE NAME",
		"u -":                          "u lines need a user name",
		"u 1a":                         "not a valid user or group name",
		"u a-b.c":                      "not a valid user or group name",
		"u " + strings.Repeat("a", 32): "not a valid user or group name",
		"u a abc":                      `bad UID "abc"`,
		"u a 65535":                    "65535 is reserved",
		"u a 4294967295":               "reserved",
		"u a 4294967296":               "out of range",
		"u a -1":                       "bad UID",
		"u a 1:2:3":                    "bad GID",
		`u a - "a:b"`:                  "not a valid GECOS field",
		"u a - - relative":             "not a valid home directory",
		"u a - - /h sh":                "not a valid login shell",
		"u a - - /h /bin/sh extra":     "trailing text",
		"g a - gecos":                  "g lines take no GECOS field",
		"g a x":                        `bad GID "x"`,
		"m a":                          "m lines need a group name",
		"m a 1bad":                     "not a valid group name",
		"m - g":                        "m lines need a user name",
		"r a 1-2":                      "r lines take no name",
		"r -":                          "r lines need a range",
		"r - 9-1":                      "start after end",
		"r - 1-x":                      "bad range",
		"r - 1-2 gecos":                "r lines take no GECOS field",
		"u %Q":                         "unknown specifier %Q",
		`u "a`:                         "unterminated",
	} {
		_, err := Parse("t.conf", []byte("g ok\n"+line+"\n"), sp())
		if err == nil || !strings.HasPrefix(err.Error(), "t.conf:2: ") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want t.conf:2: ...%s", line, err, want)
		}
	}
	if _, err := Parse("t.conf", []byte(strings.Repeat("#\n", 600000)), sp()); err == nil || !strings.Contains(err.Error(), "at most 1048576") {
		t.Errorf("big file: %v", err)
	}
	if _, err := Parse("t.conf", []byte("u "+strings.Repeat("a", 70000)), sp()); err == nil || !strings.Contains(err.Error(), "t.conf:1: line is") {
		t.Errorf("long line: %v", err)
	}
}

func TestLine(t *testing.T) {
	for _, tc := range []struct {
		e    Entry
		want string
	}{
		{Entry{Type: 'u', Name: "a", UID: 1, UIDSet: true, Group: "g", GECOS: `x "y"`}, `u "a" "1:g" "x \"y\"" - -`},
		{Entry{Type: 'r', From: 1, To: 9}, `r - "1-9" - - -`},
		{Entry{Type: 'g', Name: "g", GID: 5, GIDSet: true}, `g "g" "5" - - -`},
	} {
		if got := tc.e.Line(); got != tc.want {
			t.Errorf("Line = %s, want %s", got, tc.want)
		}
	}
}

// TestHostFiles parses every sysusers.d file the host ships.
func TestHostFiles(t *testing.T) {
	paths, _ := filepath.Glob("/usr/lib/sysusers.d/*")
	if len(paths) == 0 {
		t.Skip("no /usr/lib/sysusers.d on this host")
	}
	byName := map[string]Entry{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		es, err := Parse(p, data, sp())
		if err != nil {
			t.Errorf("%v", err)
		}
		for _, e := range es {
			if e.Type == 'g' {
				byName[e.Name] = e
			}
		}
	}
	// basic.conf (Debian's and upstream's) pins tty to 5.
	if e, ok := byName["tty"]; ok && (!e.GIDSet || e.GID != 5) {
		t.Errorf("group tty = %+v, want GID 5", e)
	}
}

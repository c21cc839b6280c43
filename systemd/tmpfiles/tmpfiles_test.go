package tmpfiles

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/systemd/syntax"
)

func sp() syntax.Specifiers {
	s := syntax.System()
	s.MachineID, s.BootID = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
	return s
}

func one(t *testing.T, line string) Entry {
	t.Helper()
	es, err := Parse("t.conf", []byte("# comment\n\n"+line+"\n"), sp())
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 {
		t.Fatalf("%d entries", len(es))
	}
	if es[0].Pos != (config.Pos{File: "t.conf", Line: 3}) {
		t.Errorf("%s: Pos %v, want t.conf:3", line, es[0].Pos)
	}
	es[0].Pos = config.Pos{}
	return es[0]
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		line string
		want Entry
	}{
		{"d /run/haproxy 2775 haproxy haproxy", Entry{Type: 'd', Path: "/run/haproxy", Mode: 0o775 | fs.ModeSetgid, ModeSet: true, User: "haproxy", Group: "haproxy"}},
		{"d\t/var/cache/man 0755 man man 1w", Entry{Type: 'd', Path: "/var/cache/man", Mode: 0o755, ModeSet: true, User: "man", Group: "man", Age: 7 * 24 * time.Hour, AgeSet: true}},
		{"D /tmp 1777 root root -", Entry{Type: 'D', Path: "/tmp", Mode: 0o777 | fs.ModeSticky, ModeSet: true, User: "root", Group: "root"}},
		{"d /x - - - ~bmA:1h -", Entry{Type: 'd', Path: "/x", Age: time.Hour, AgeSet: true, AgeKeepFirstLevel: true, AgeBy: "bmA"}},
		{"f /run/a", Entry{Type: 'f', Path: "/run/a"}},
		{`f+! /run/nologin 0644 - - - "Booting up." more`, Entry{Type: 'f', Plus: true, Boot: true, Path: "/run/nologin", Mode: 0o644, ModeSet: true, Argument: `"Booting up." more`, ArgumentSet: true}},
		{`f /a - - - - x\ty\x20%t %%`, Entry{Type: 'f', Path: "/a", Argument: "x\ty /run %", ArgumentSet: true}},
		{`w- /proc/sys/vm/swappiness - - - - 10`, Entry{Type: 'w', IgnoreFailure: true, Path: "/proc/sys/vm/swappiness", Argument: "10", ArgumentSet: true}},
		{`w+ /a - - - - \x20lead`, Entry{Type: 'w', Plus: true, Path: "/a", Argument: " lead", ArgumentSet: true}},
		{`f~ /a - - - - aGVsbG8=`, Entry{Type: 'f', Base64: true, Path: "/a", Argument: "aGVsbG8=", ArgumentSet: true}},
		{`f^ /etc/hosts - - - - network.hosts`, Entry{Type: 'f', Credential: true, Path: "/etc/hosts", Argument: "network.hosts", ArgumentSet: true}},
		{`d- /root :0700 root :root -`, Entry{Type: 'd', IgnoreFailure: true, Path: "/root", Mode: 0o700, ModeSet: true, ModeOnlyCreate: true, User: "root", Group: "root", GroupOnlyCreate: true}},
		{`Z /run/log/journal/%m ~2750 root systemd-journal - -`, Entry{Type: 'Z', Path: "/run/log/journal/0123456789abcdef0123456789abcdef", Mode: 0o750 | fs.ModeSetgid, ModeSet: true, ModeMask: true, User: "root", Group: "systemd-journal"}},
		{`L+ /etc/mtab - - - - ../proc/self/mounts`, Entry{Type: 'L', Plus: true, Path: "/etc/mtab", Argument: "../proc/self/mounts", ArgumentSet: true}},
		{`L /etc/foo`, Entry{Type: 'L', Path: "/etc/foo", Argument: "/usr/share/factory/etc/foo", ArgumentSet: true}},
		{`C /etc/x - - - - /usr/share/x`, Entry{Type: 'C', Path: "/etc/x", Argument: "/usr/share/x", ArgumentSet: true}},
		{`c! /dev/fuse 0600 - - - 10:229`, Entry{Type: 'c', Boot: true, Path: "/dev/fuse", Mode: 0o600, ModeSet: true, Argument: "10:229", ArgumentSet: true, Major: 10, Minor: 229}},
		{`b /dev/loop9 - - - - 7:9`, Entry{Type: 'b', Path: "/dev/loop9", Argument: "7:9", ArgumentSet: true, Major: 7, Minor: 9}},
		{`p /run/fifo 0600`, Entry{Type: 'p', Path: "/run/fifo", Mode: 0o600, ModeSet: true}},
		{`e /var/tmp - - - 30d`, Entry{Type: 'e', Path: "/var/tmp", Age: 30 * 24 * time.Hour, AgeSet: true}},
		{`v /var/lib/machines 0700 - - -`, Entry{Type: 'v', Path: "/var/lib/machines", Mode: 0o700, ModeSet: true}},
		{`q /srv 0755 - - -`, Entry{Type: 'q', Path: "/srv", Mode: 0o755, ModeSet: true}},
		{`Q /home 0755 - - -`, Entry{Type: 'Q', Path: "/home", Mode: 0o755, ModeSet: true}},
		{`x /tmp/systemd-private-%b-*`, Entry{Type: 'x', Path: "/tmp/systemd-private-fedcba9876543210fedcba9876543210-*"}},
		{`X /tmp/a/*/tmp`, Entry{Type: 'X', Path: "/tmp/a/*/tmp"}},
		{`r! /forcefsck`, Entry{Type: 'r', Boot: true, Path: "/forcefsck"}},
		{`R /tmp/a`, Entry{Type: 'R', Path: "/tmp/a"}},
		{`z /run/log/journal 2755 root systemd-journal - -`, Entry{Type: 'z', Path: "/run/log/journal", Mode: 0o755 | fs.ModeSetgid, ModeSet: true, User: "root", Group: "systemd-journal"}},
		{`t /a - - - - user.x=y`, Entry{Type: 't', Path: "/a", Argument: "user.x=y", ArgumentSet: true}},
		{`T /a - - - - user.x=y`, Entry{Type: 'T', Path: "/a", Argument: "user.x=y", ArgumentSet: true}},
		{`h /var/log/journal - - - - +C`, Entry{Type: 'h', Path: "/var/log/journal", Argument: "+C", ArgumentSet: true}},
		{`H /a - - - - -i`, Entry{Type: 'H', Path: "/a", Argument: "-i", ArgumentSet: true}},
		{`a+ /var/log/journal - - - - d:group::r-x,group:adm:r-x`, Entry{Type: 'a', Plus: true, Path: "/var/log/journal", Argument: "d:group::r-x,group:adm:r-x", ArgumentSet: true}},
		{`A /a - - - - u:x:r`, Entry{Type: 'A', Path: "/a", Argument: "u:x:r", ArgumentSet: true}},
		{`d= "/run/a b"//./c/ 0755 1000 "100"`, Entry{Type: 'd', Replace: true, Path: "/run/a b/c", Mode: 0o755, ModeSet: true, User: "1000", Group: "100"}},
		{`d %t/x`, Entry{Type: 'd', Path: "/run/x"}},
		{`d /a/../b`, Entry{Type: 'd', Path: "/a/../b"}},
	} {
		if got := one(t, tc.line); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s\n got  %+v\n want %+v", tc.line, got, tc.want)
		}
	}
}

func TestErrors(t *testing.T) {
	for line, want := range map[string]string{
		"y /a":                 `unknown type "y"`,
		"d":                    "expected TYPE PATH",
		"d+x /a":               "unknown modifiers",
		"d!! /a":               "unknown modifiers",
		"d relative":           `path "relative" is not absolute`,
		"d %t":                 "",
		"d /a 999":             `bad mode "999"`,
		"d /a 17777":           "at most 07777",
		"d /a -1":              "bad mode",
		"d /a - - - 5x":        `bad age "5x"`,
		"d /a - - - xyz:5s":    "expected [~][abcmABCM:]TIMESPAN",
		"d /a - : -":           "empty user",
		"d %Q/a":               "unknown specifier %Q",
		`d "/a`:                "unterminated",
		"w /a":                 "w lines need an argument",
		"c /dev/x":             "need an argument: MAJOR:MINOR",
		"c /dev/x - - - - 1-2": "bad device number",
		"L~ /a - - - - x":      "no base64 argument",
		"d^ /a - - - - cred":   "take no credential",
		"f^ /a":                "needs a credential name",
		"C /a - - - - rel":     "not absolute",
		"t /a":                 "t lines need an argument",
		`f /a - - - - \q`:      "unknown escape",
		`f /a - - - - %Q`:      "unknown specifier",
	} {
		_, err := Parse("t.conf", []byte("d /ok\n"+line+"\n"), sp())
		if want == "" {
			if err != nil {
				t.Errorf("%s: %v", line, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), "t.conf:2: ") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want t.conf:2: ...%s", line, err, want)
		}
	}
	// Every bad line is reported.
	_, err := Parse("t.conf", []byte("y /a\nd\n"), sp())
	if err == nil || !strings.Contains(err.Error(), "t.conf:1:") || !strings.Contains(err.Error(), "t.conf:2:") {
		t.Errorf("two bad lines: %v", err)
	}
	// Bounded input.
	if _, err := Parse("t.conf", []byte(strings.Repeat("#\n", 600000)), sp()); err == nil || !strings.Contains(err.Error(), "at most 1048576") {
		t.Errorf("big file: %v", err)
	}
	if _, err := Parse("t.conf", []byte("d /"+strings.Repeat("a", 70000)), sp()); err == nil || !strings.Contains(err.Error(), "t.conf:1: line is") {
		t.Errorf("long line: %v", err)
	}
}

func TestDefaultMode(t *testing.T) {
	for typ, want := range map[byte]fs.FileMode{'d': 0o755, 'f': 0o644, 'z': 0, 'L': 0} {
		m, ok := Entry{Type: typ}.DefaultMode()
		if m != want || ok != (want != 0) {
			t.Errorf("%c: %o %v", typ, m, ok)
		}
	}
}

// TestHostFiles parses every tmpfiles.d file the host ships.
func TestHostFiles(t *testing.T) {
	paths, _ := filepath.Glob("/usr/lib/tmpfiles.d/*")
	if len(paths) == 0 {
		t.Skip("no /usr/lib/tmpfiles.d on this host")
	}
	byFile := map[string][]Entry{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue // a link to /dev/null reads empty; a dangling one fails
		}
		es, err := Parse(p, data, sp())
		if err != nil {
			t.Errorf("%v", err)
		}
		byFile[filepath.Base(p)] = es
	}
	if es, ok := byFile["tmp.conf"]; ok {
		found := false
		for _, e := range es {
			if e.Path == "/tmp" && e.Type == 'D' && e.Mode == 0o777|fs.ModeSticky {
				found = true
			}
		}
		if !found {
			t.Errorf("tmp.conf has no D /tmp 1777: %+v", es)
		}
	}
}

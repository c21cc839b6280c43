package unitfile

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/unit-os/unit/config"
)

func k(section, name, value string, line int) Key {
	return Key{Section: section, Name: name, Value: value, Pos: config.Pos{File: "t.service", Line: line}}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []Key
	}{
		{"sections and comments", "# c\n; c\n[Unit]\nDescription = a b \n\n  [Service]\n  Type=simple\n",
			[]Key{k("Unit", "Description", "a b", 4), k("Service", "Type", "simple", 7)}},
		{"repeated keys kept in order", "[Service]\nA=1\nA=2\nA=\n",
			[]Key{k("Service", "A", "1", 2), k("Service", "A", "2", 3), k("Service", "A", "", 4)}},
		{"continuation", "[Service]\nExecStart=/bin/echo a \\\n  b\\\n# a comment between\nc\nX=y\n",
			[]Key{k("Service", "ExecStart", "/bin/echo a    b c", 2), k("Service", "X", "y", 6)}},
		{"escaped backslash is no continuation", "[S]\nA=x\\\\\nB=y\n",
			[]Key{k("S", "A", `x\\`, 2), k("S", "B", "y", 3)}},
		{"continuation at end of file", "[S]\nA=x\\",
			[]Key{k("S", "A", "x", 2)}},
		{"CRLF and BOM", "\xef\xbb\xbf[S]\r\nA=1\r\n", []Key{k("S", "A", "1", 2)}},
		{"= in value", "[S]\nEnvironment=A=b\n", []Key{k("S", "Environment", "A=b", 2)}},
		{"unknown section kept", "[X-Foo]\nBar=1\n", []Key{k("X-Foo", "Bar", "1", 2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse("t.service", []byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f.Keys, tc.want) {
				t.Errorf("got  %v\nwant %v", f.Keys, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"no =", "[S]\nA=1\nfoo\n", "t.service:3: missing '=' in \"foo\""},
		{"outside section", "A=1\n", "t.service:1: assignment outside of a section"},
		{"bad header", "[S]\n[Unit\n", "t.service:2: invalid section header"},
		{"empty header", "[]\n", "t.service:1: invalid section name"},
		{"no key name", "[S]\n=1\n", "t.service:2: missing key name"},
		{"invalid utf-8", "[S]\nA=\xff\n", "t.service:2: invalid UTF-8"},
		{"NUL", "[S]\nA=\x00\n", "t.service:2: NUL byte"},
		{"overlong line", "[S]\nA=" + strings.Repeat("x", 70000) + "\n", "t.service:2: line is 70002 bytes; at most 65536"},
		{"overlong continuation", "[S]\nA=" + strings.Repeat(strings.Repeat("x", 60000)+"\\\n", 2) + "\n", "t.service:2: continued line is over 65536 bytes"},
		{"file too big", "[S]\n" + strings.Repeat("#\n", 600000), "t.service: file is 1200004 bytes; at most 1048576"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.service", []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	// Every bad line is reported, not just the first.
	_, err := Parse("t.service", []byte("[S]\na\nb\n"))
	var es config.Errors
	if !errors.As(err, &es) || len(es) != 2 {
		t.Fatalf("error %v, want two errors", err)
	}
}

func TestMerge(t *testing.T) {
	unit, _ := Parse("t.service", []byte("[Service]\nExecStart=/bin/a\nEnvironment=A=1\nUser=x\n"))
	d1, _ := Parse("10-a.conf", []byte("[Service]\nExecStart=\nExecStart=/bin/b\n"))
	d2, _ := Parse("20-b.conf", []byte("[Service]\nEnvironment=B=2\nUser=y\n"))
	s, err := Merge(unit, d1, d2).Service("t.service", sys())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.ExecStart) != 1 || s.ExecStart[0].Path != "/bin/b" || s.ExecStart[0].Pos.File != "10-a.conf" || s.ExecStart[0].Pos.Line != 3 {
		t.Errorf("ExecStart = %+v, want /bin/b from 10-a.conf:3", s.ExecStart)
	}
	if s.User.V != "y" || s.User.Pos.File != "20-b.conf" {
		t.Errorf("User = %+v, want y from 20-b.conf", s.User)
	}
	env := []string{}
	for _, v := range s.Environment {
		env = append(env, v.Name+"="+v.Value)
	}
	if strings.Join(env, " ") != "A=1 B=2" {
		t.Errorf("Environment = %v, want A=1 B=2", env)
	}
	// The unit itself is unchanged.
	if len(unit.Keys) != 3 {
		t.Errorf("Merge changed its input: %v", unit.Keys)
	}
}

func TestFormatRoundTrip(t *testing.T) {
	in := "[Unit]\nA=1\n[Service]\nB=x \\\ny\n[Unit]\nC=\\\\\nD=x\\ \n"
	f, err := Parse("t", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := "[Unit]\nA=1\n[Service]\nB=x  y\n[Unit]\nC=\\\\\nD=x\\ \n"
	if got := f.Format(); got != want {
		t.Errorf("Format = %q, want %q", got, want)
	}
}

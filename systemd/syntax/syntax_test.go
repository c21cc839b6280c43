package syntax

import (
	"reflect"
	"strings"
	"testing"
)

func TestWords(t *testing.T) {
	for _, tc := range []struct {
		in    string
		flags Flags
		want  []string
	}{
		{`a  b	c`, Unquote, []string{"a", "b", "c"}},
		{`"a b" 'c "d"' e"f g"h`, Unquote, []string{"a b", `c "d"`, "ef gh"}},
		{`a\ b`, Unquote, []string{"a b"}},
		{`"a\"b" \x41\102\u00e9\U0001F600 \s\n`, Unquote | CUnescape, []string{`a"b`, "ABé😀", " \n"}},
		{`'\t'`, Unquote | CUnescape, []string{"\t"}},
		{`"a b"`, 0, []string{`"a`, `b"`}},
		{`a\ b c`, RetainEscape, []string{`a\ b`, "c"}},
		{`"open`, Unquote | Relax, []string{"open"}},
		{`a b\`, Unquote | Relax, []string{"a", "b"}},
		{``, Unquote, nil},
		{`   `, Unquote, nil},
		{`""`, Unquote, []string{""}},
	} {
		got, err := Words(tc.in, tc.flags)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Words(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for in, want := range map[string]string{
		`"open`:      "unterminated \" quote",
		`a\`:         "trailing backslash",
		`\q`:         "unknown escape \\q",
		`\x00`:       "bad escape",
		`\x4`:        "bad escape",
		`\000`:       "bad escape",
		`\400`:       "bad escape",
		`\ud800`:     "bad escape",
		`\U00110000`: "bad escape",
	} {
		if _, err := Words(in, Unquote|CUnescape); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Words(%q): error %v, want %q", in, err, want)
		}
	}
}

func TestQuote(t *testing.T) {
	for _, s := range []string{"", "a b", `"\`, "x\ty\n", "é"} {
		w, rest, ok, err := Word(Quote(s), Unquote|CUnescape)
		if err != nil || !ok || rest != "" || w != s {
			t.Errorf("Quote(%q) = %q reads back as %q, %q, %v, %v", s, Quote(s), w, rest, ok, err)
		}
	}
}

func TestExpand(t *testing.T) {
	sp := System()
	for in, want := range map[string]string{
		"%t/x":                       "/run/x",
		"%%t":                        "%t",
		"100%":                       "100%",
		"%S%C%L":                     "/var/lib/var/cache/var/log",
		"%E %T %V %u %U %h %s %g %G": "/etc /tmp /var/tmp root 0 /root /bin/sh root 0",
		"plain":                      "plain",
	} {
		got, err := Expand(in, sp.Lookup)
		if err != nil || got != want {
			t.Errorf("Expand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := Expand("%Q", sp.Lookup); err == nil || err.Error() != "unknown specifier %Q" {
		t.Errorf("%%Q: %v", err)
	}
	if _, err := Expand("%H", sp.Lookup); err == nil || err.Error() != "specifier %H has no value here" {
		t.Errorf("%%H unset: %v", err)
	}
}

func TestLines(t *testing.T) {
	ls, err := Lines("f", []byte("\xef\xbb\xbfa\r\nb\n\nc"))
	want := []Line{{1, "a"}, {2, "b"}, {3, ""}, {4, "c"}}
	if err != nil || !reflect.DeepEqual(ls, want) {
		t.Errorf("Lines = %v, %v", ls, err)
	}
	for in, msg := range map[string]string{
		strings.Repeat("x", MaxFile+1):         "f: file is 1048577 bytes; at most 1048576",
		"a\n" + strings.Repeat("x", MaxLine+1): "f:2: line is 65537 bytes; at most 65536",
		"a\nb\x00":                             "f:2: NUL byte in line",
	} {
		if _, err := Lines("f", []byte(in)); err == nil || err.Error() != msg {
			t.Errorf("error %v, want %q", err, msg)
		}
	}
	// At the limits exactly: accepted.
	if _, err := Lines("f", []byte(strings.Repeat(strings.Repeat("x", MaxLine)+"\n", MaxFile/(MaxLine+1)))); err != nil {
		t.Error(err)
	}
}

package translate

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// unitRoot is a root with one unit file, NAME.service, of text.
func unitRoot(t *testing.T, name, text string) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "lib/systemd/system")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".service"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// TestControlPrefixesKept: "-", "@", ":", "+", "!" and "!!" on
// ExecStartPre=/ExecStartPost=/ExecStopPost= stay on the program, in any
// combination systemd allows, with "@"'s argv[0] as the second word, and
// none is listed as not honoured.
func TestControlPrefixesKept(t *testing.T) {
	root := unitRoot(t, "pfx", `[Service]
Environment=X=1
ExecStartPre=!/bin/a $X
ExecStartPre=-@/bin/b b-name arg
ExecStartPre=:/bin/c ${X}
ExecStartPost=+-/bin/d
ExecStopPost=-!!/bin/e
ExecStopPost=@:!/bin/f f-name
ExecStart=/bin/main
`)
	r, err := Service(root, "pfx")
	if err != nil {
		t.Fatal(err)
	}
	s := r.Service
	want := [][][]string{
		{{"!/bin/a", "$X"}, {"-@/bin/b", "b-name", "arg"}, {":/bin/c", "${X}"}},
		{{"-+/bin/d"}},
		{{"-!!/bin/e"}, {"@:!/bin/f", "f-name"}},
	}
	if got := [][][]string{s.ExecPre, s.ExecPost, s.ExecStopPost}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if !s.Expand {
		t.Error("expand not set by $X")
	}
	for _, n := range r.Notes {
		if strings.Contains(n.Key, "Exec") {
			t.Errorf("listed: %s", n)
		}
	}
}

// TestExecStartPrefixesKept: ExecStart='s prefixes stay on exec (the main
// command runs as root with "!" or "+" while User= owns its dirs) but
// "-", which is dropped and listed: the exit status counts.
func TestExecStartPrefixesKept(t *testing.T) {
	root := unitRoot(t, "pfx", "[Service]\nUser=daemon\nExecStart=-+/bin/main $X\n")
	r, err := Service(root, "pfx")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"+/bin/main", "$X"}; !reflect.DeepEqual(r.Service.Exec, want) {
		t.Errorf("exec = %q, want %q", r.Service.Exec, want)
	}
	var notes []string
	for _, n := range r.Notes {
		notes = append(notes, n.String())
	}
	if len(notes) != 1 || !strings.Contains(notes[0], `ExecStart= not honoured: "-": the exit status counts`) {
		t.Errorf("notes = %q, want only the one about \"-\"", notes)
	}
}

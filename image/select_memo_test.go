package image

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestSelectDebsMemo: a warm selection comes from the cache without
// reading the kegs (their files are moved away, and the selection is the
// cold one); a changed service exec, exclude, include or [file] misses
// and gives what a cold selection gives; a memo that does not decode is
// made again.
func TestSelectDebsMemo(t *testing.T) {
	f := newFixture(t, kegSpec{pkg: "tool", source: "tool",
		progs: map[string]string{"/usr/sbin/tool": hostProg},
		files: map[string]string{"/usr/share/tool/unused.txt": "x"}})
	const sys = `
[system]
packages = ["hello"]
%s
%s
`
	withTool := fmt.Sprintf(sys, "", "[service.tool]\nexec = [\"tool\"]")
	cache := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	try := func(src string) (*debSelection, error) {
		cfg, _ := loadSystem(t, src)
		return memoSelectDebs(cache, cfg, log, f.debs, f.named, nil)
	}
	memoSel := func(src string) *debSelection {
		t.Helper()
		sel, err := try(src)
		if err != nil {
			t.Fatal(err)
		}
		return sel
	}
	cold := func(src string) *debSelection {
		t.Helper()
		cfg, _ := loadSystem(t, src)
		sel, err := f.sel(t, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return sel
	}
	want := cold(withTool)
	if got := memoSel(withTool); !reflect.DeepEqual(got, want) {
		t.Fatalf("first selection %+v, want %+v", got, want)
	}
	// Every input that changes the selection misses.
	for _, src := range []string{
		fmt.Sprintf(sys, "", ""), // no service: no tool
		fmt.Sprintf(sys, "", "[service.tool]\nexec = [\"/usr/bin/hello\"]"),
		fmt.Sprintf(sys, `exclude = ["/usr/share/hello-common"]`, "[service.tool]\nexec = [\"tool\"]"),
		fmt.Sprintf(sys, `include = ["/usr/share/locale/de"]`, "[service.tool]\nexec = [\"tool\"]"),
		fmt.Sprintf(sys, "", "[service.tool]\nexec = [\"tool\"]\n[file.\"/etc/hello.conf\"]\ncontent = \"x\""),
	} {
		w := cold(src)
		if reflect.DeepEqual(w, want) {
			t.Fatalf("test case does not change the selection:\n%s", src)
		}
		if got := memoSel(src); !equalSelection(got, w) {
			t.Errorf("after a change:\n%s\ngot %+v\nwant %+v", src, got, w)
		}
	}
	// Warm: the kegs' files are not read.
	for _, k := range f.debs {
		if err := os.Rename(filepath.Join(k.Dir, "usr"), filepath.Join(k.Dir, "gone")); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	if got := memoSel(withTool); !equalSelection(got, want) {
		t.Fatalf("warm selection %+v, want the cached %+v", got, want)
	}
	// A memo that does not decode (its record matching) is made again.
	m, _ := filepath.Glob(filepath.Join(cache, "image-select", "*.gob"))
	for _, p := range m {
		junk := []byte("not a selection")
		s := sha256.Sum256(junk)
		if err := os.WriteFile(p, junk, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p+".sum", fmt.Appendf(nil, "%s %d\n", hex.EncodeToString(s[:]), len(junk)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := try(withTool); err == nil {
		t.Errorf("a corrupt memo was used: %+v, want the kegs read again (and tool missing)", got)
	}
}

// equalSelection compares selections as the image uses them (a memo's
// empty lists come back nil).
func equalSelection(a, b *debSelection) bool {
	return fmt.Sprintf("%v", *a) == fmt.Sprintf("%v", *b)
}

package update_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/unit-os/unit/uki"
	"github.com/unit-os/unit/update"
)

// newESP is an empty ESP: a directory with EFI/Linux in it.
func newESP(t *testing.T) update.ESP {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, update.EntryDir), 0o755); err != nil {
		t.Fatal(err)
	}
	return update.ESP{Dir: dir}
}

// entryFiles is the sorted list of file names in the ESP's entry directory.
func entryFiles(t *testing.T, p update.ESP) []string {
	t.Helper()
	des, err := os.ReadDir(filepath.Join(p.Dir, update.EntryDir))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	return out
}

// install installs image as the entry named name.
func install(t *testing.T, p update.ESP, name string, image []byte) update.Entry {
	t.Helper()
	e := entries(t, name)[0]
	if err := p.Install(e, image); err != nil {
		t.Fatalf("Install %s: %v", name, err)
	}
	return e
}

func readEntry(t *testing.T, p update.ESP, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(p.Dir, update.EntryDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestInstall(t *testing.T) {
	p := newESP(t)
	image := bytes.Repeat([]byte("image "), 1000)
	// A temporary file left by a power cut does not get in the way.
	if err := os.WriteFile(filepath.Join(p.Dir, update.EntryDir, "unit-new.tmp"), []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	install(t, p, "unit-2-b+1-0.efi", image)
	if got := readEntry(t, p, "unit-2-b+1-0.efi"); !bytes.Equal(got, image) {
		t.Errorf("installed entry: %d bytes, want the image's %d", len(got), len(image))
	}
	// Only the entry is left: no unit-new.tmp.
	if got := entryFiles(t, p); !slices.Equal(got, []string{"unit-2-b+1-0.efi"}) {
		t.Errorf("EFI/Linux holds %q", got)
	}
}

func TestInstallNoEntryDir(t *testing.T) {
	p := update.ESP{Dir: t.TempDir()} // no EFI/Linux
	if err := p.Install(update.Entry{Gen: 1, Slot: "a"}, []byte("x")); err == nil {
		t.Fatal("Install without EFI/Linux: no error")
	}
	if _, err := (update.ESP{Dir: filepath.Join(t.TempDir(), "gone")}).Entries(); err == nil {
		t.Error("Entries of a missing ESP: no error")
	}
}

func TestEntries(t *testing.T) {
	p := newESP(t)
	dir := filepath.Join(p.Dir, update.EntryDir)
	install(t, p, "unit-1-a.efi", []byte("a"))
	install(t, p, "unit-2-b+1-0.efi", []byte("b"))
	// Not entries: a directory named like one, someone else's files, a
	// symbolic link (FAT has none; it is not an image we wrote).
	if err := os.Mkdir(filepath.Join(dir, "unit-3-a.efi"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"README.txt", "other-6.1.efi", "unit-new.tmp"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("unit-1-a.efi", filepath.Join(dir, "unit-4-b.efi")); err != nil {
		t.Fatal(err)
	}
	es, err := p.Entries()
	if err != nil {
		t.Fatal(err)
	}
	got := names(es)
	sort.Strings(got)
	if want := []string{"unit-1-a.efi", "unit-2-b+1-0.efi"}; !slices.Equal(got, want) {
		t.Errorf("Entries = %q, want %q", got, want)
	}
}

func TestSlotEntry(t *testing.T) {
	// After a crash a slot may have two entries: the newest is the slot's,
	// wherever it is in the list.
	es := entries(t, "unit-1-a.efi", "unit-4-b+0-1.efi", "unit-2-b.efi", "unit-3-a+1-0.efi")
	rev := slices.Clone(es)
	slices.Reverse(rev)
	for _, tc := range []struct {
		es   []update.Entry
		slot string
		want string // "" for none
	}{
		{es, "a", "unit-3-a+1-0.efi"},
		{es, "b", "unit-4-b+0-1.efi"},
		{rev, "a", "unit-3-a+1-0.efi"},
		{rev, "b", "unit-4-b+0-1.efi"},
		{es[:1], "b", ""},
		{nil, "a", ""},
	} {
		e, ok := update.SlotEntry(tc.es, tc.slot)
		switch {
		case tc.want == "" && ok:
			t.Errorf("SlotEntry(%q, %s) = %s: want none", names(tc.es), tc.slot, e.Name())
		case tc.want != "" && (!ok || e.Name() != tc.want):
			t.Errorf("SlotEntry(%q, %s) = %s, %v: want %s", names(tc.es), tc.slot, e.Name(), ok, tc.want)
		}
	}
}

func TestRemoveSlot(t *testing.T) {
	p := newESP(t)
	for _, n := range []string{"unit-1-a.efi", "unit-2-b+0-1.efi", "unit-3-b.efi"} {
		install(t, p, n, []byte(n))
	}
	if err := os.WriteFile(filepath.Join(p.Dir, update.EntryDir, "README.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.RemoveSlot("b"); err != nil {
		t.Fatal(err)
	}
	if got, want := entryFiles(t, p), []string{"README.txt", "unit-1-a.efi"}; !slices.Equal(got, want) {
		t.Errorf("after RemoveSlot(b): %q, want %q", got, want)
	}
	// Nothing left of the slot is no error.
	if err := p.RemoveSlot("b"); err != nil {
		t.Errorf("second RemoveSlot(b): %v", err)
	}
}

func TestRename(t *testing.T) {
	for _, tc := range []struct {
		what     string
		from, to string
	}{
		{"commit", "unit-2-b+0-1.efi", "unit-2-b.efi"},
		{"rollback", "unit-1-a.efi", "unit-3-a.efi"},
	} {
		t.Run(tc.what, func(t *testing.T) {
			p := newESP(t)
			from := install(t, p, tc.from, []byte(tc.from))
			install(t, p, "unit-9-b+1-0.efi", []byte("other")) // left alone
			to := entries(t, tc.to)[0]
			if err := p.Rename(from, to); err != nil {
				t.Fatal(err)
			}
			want := []string{tc.to, "unit-9-b+1-0.efi"}
			sort.Strings(want)
			if got := entryFiles(t, p); !slices.Equal(got, want) {
				t.Errorf("after Rename: %q, want %q", got, want)
			}
			if got := readEntry(t, p, tc.to); string(got) != tc.from {
				t.Errorf("renamed entry holds %q, want %q", got, tc.from)
			}
			// The source is gone, so renaming it again fails.
			if err := p.Rename(from, to); err == nil {
				t.Error("second Rename: no error")
			}
		})
	}
}

func TestNote(t *testing.T) {
	p := newESP(t)
	if n, ok := p.ReadNote(); ok {
		t.Fatalf("ReadNote with no note = %+v, true", n)
	}
	for _, n := range []update.Note{
		{Gen: 4, Slot: "b", Release: "git:abc", Reason: "unit did not commit"},
		{Gen: 5, Slot: "a", Reason: "watchdog"}, // replaces the first
	} {
		if err := p.WriteNote(n); err != nil {
			t.Fatal(err)
		}
		if got, ok := p.ReadNote(); !ok || got != n {
			t.Errorf("ReadNote = %+v, %v: want %+v", got, ok, n)
		}
	}
	if _, err := os.Stat(filepath.Join(p.Dir, update.NotePath+".tmp")); err == nil {
		t.Error("WriteNote left its temporary file")
	}
	for i := range 2 { // a second remove finds nothing, which is fine
		if err := p.RemoveNote(); err != nil {
			t.Errorf("RemoveNote #%d: %v", i+1, err)
		}
	}
	if n, ok := p.ReadNote(); ok {
		t.Errorf("ReadNote after RemoveNote = %+v, true", n)
	}
}

func TestReadNoteRejects(t *testing.T) {
	// The ESP is anybody's FAT: whatever is at the note's path that is
	// not a note reads as none.
	for name, content := range map[string]string{
		"garbage":   "{not json",
		"gen 0":     `{"gen":0,"slot":"a","reason":"x"}`,
		"gen < 0":   `{"gen":-1,"slot":"a","reason":"x"}`,
		"gen typed": `{"gen":"1","slot":"a","reason":"x"}`,
		"empty":     "",
		"too big":   `{"gen":1,"slot":"a","reason":"` + strings.Repeat("x", 64<<10) + `"}`,
	} {
		p := newESP(t)
		path := filepath.Join(p.Dir, update.NotePath)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if n, ok := p.ReadNote(); ok {
			t.Errorf("%s: ReadNote = %+v, true", name, n)
		}
	}
}

func TestReadInfo(t *testing.T) {
	stub, err := os.ReadFile(uki.StubPath)
	if err != nil {
		t.Skipf("no EFI stub: %v", err)
	}
	image, err := uki.Build(stub, []uki.Section{
		{Name: ".osrel", Data: update.OSRelease("h", "git:abc", "6.1.0-x")},
		{Name: ".cmdline", Data: []byte("console=ttyS0 unit.root=PARTUUID=11111111-2222-3333-4444-555555555555")},
		{Name: ".linux", Data: bytes.Repeat([]byte{0xAB}, 3000)},
		{Name: ".initrd", Data: bytes.Repeat([]byte{0xCD}, 2000)},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := update.Info{Release: "git:abc", Kernel: "6.1.0-x"}
	if got, err := update.ImageInfo(image); err != nil || got != want {
		t.Errorf("ImageInfo = %+v, %v: want %+v", got, err, want)
	}
	p := newESP(t)
	e := install(t, p, "unit-1-a.efi", image)
	if got, err := p.ReadInfo(e); err != nil || got != want {
		t.Errorf("ReadInfo = %+v, %v: want %+v", got, err, want)
	}
	if _, err := p.ReadInfo(update.Entry{Gen: 2, Slot: "b"}); err == nil {
		t.Error("ReadInfo of a missing entry: no error")
	}
	// The stub alone has no .osrel.
	if got, err := update.ImageInfo(stub); err == nil {
		t.Errorf("ImageInfo(stub) = %+v: no error", got)
	}
	if got, err := update.ImageInfo([]byte("not a PE image")); err == nil {
		t.Errorf("ImageInfo(garbage) = %+v: no error", got)
	}
}

func TestOSRelease(t *testing.T) {
	osrel := string(update.OSRelease("host", "git:abc", "6.1.0-x"))
	for _, line := range []string{"ID=unit", "UNIT_RELEASE=git:abc", "UNIT_KERNEL=6.1.0-x"} {
		if !slices.Contains(strings.Split(osrel, "\n"), line) {
			t.Errorf("OSRelease has no line %q:\n%s", line, osrel)
		}
	}
	// systemd-boot orders entries with the same ID by a version from
	// os-release (IMAGE_VERSION, VERSION, VERSION_ID or BUILD_ID) before
	// their names: with one, a kernel version would outrank the
	// generation in the name.
	for _, line := range strings.Split(osrel, "\n") {
		for _, key := range []string{"VERSION_ID=", "VERSION=", "IMAGE_VERSION=", "BUILD_ID="} {
			if strings.HasPrefix(line, key) {
				t.Errorf("OSRelease has %q", line)
			}
		}
	}
}

// A link planted where a write's temp file goes (the name older units
// used) is not written through: the temp file is a new one of its own.
func TestWriteNoteNotThroughLink(t *testing.T) {
	p := newESP(t)
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	note := filepath.Join(p.Dir, update.NotePath)
	if err := os.MkdirAll(filepath.Dir(note), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, note+".tmp"); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteNote(update.Note{Gen: 2, Slot: "a", Reason: "watchdog"}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("written through the planted link: %q", b)
	}
	if n, ok := p.ReadNote(); !ok || n.Gen != 2 {
		t.Errorf("ReadNote = %+v, %v", n, ok)
	}
}

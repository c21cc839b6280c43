package update_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/unit-os/unit/update"
)

func TestParseEntryAccepts(t *testing.T) {
	for _, tc := range []struct {
		name string
		want update.Entry
	}{
		{"unit-1-a.efi", update.Entry{Gen: 1, Slot: "a"}},
		{"unit-12-b+1-0.efi", update.Entry{Gen: 12, Slot: "b", Counted: true, Left: 1, Done: 0}},
		{"unit-3-b+0-2.efi", update.Entry{Gen: 3, Slot: "b", Counted: true, Left: 0, Done: 2}},
		// FAT folds case: an entry renamed by a tool that upper-cases is
		// still ours.
		{"UNIT-1-A.EFI", update.Entry{Gen: 1, Slot: "a"}},
		{"Unit-7-B+2-1.Efi", update.Entry{Gen: 7, Slot: "b", Counted: true, Left: 2, Done: 1}},
	} {
		e, ok := update.ParseEntry(tc.name)
		if !ok || e != tc.want {
			t.Errorf("ParseEntry(%q) = %+v, %v: want %+v, true", tc.name, e, ok, tc.want)
			continue
		}
		// Name gives back the file name (in lower case).
		if e.Name() != strings.ToLower(tc.name) {
			t.Errorf("ParseEntry(%q).Name() = %q", tc.name, e.Name())
		}
	}
}

func TestParseEntryRejects(t *testing.T) {
	for _, name := range []string{
		"unit-0-a.efi",       // generations start at 1
		"unit-1-c.efi",       // no slot c
		"unit-1-a+x-0.efi",   // counter not a number
		"unit-1-a+1.efi",     // counter without DONE
		"unit--1-a.efi",      // negative generation
		"unit-1-a.efi.tmp",   // not .efi
		"unit-new.tmp",       // Install's temporary file
		"other.efi",          // somebody else's entry
		"unit-1-a+1-0-3.efi", // trailing garbage in the counter
		// A name that does not round-trip (ignoring case) is not ours:
		// two names must never parse to the same entry.
		"unit-01-a.efi",
		"unit-1-a+01-0.efi",
		"unit-1-a++1-0.efi",
		"unit-+1-a.efi",
		"unit-1-a",
		"unit-1-a.EFI.efi",
		"",
	} {
		if e, ok := update.ParseEntry(name); ok {
			t.Errorf("ParseEntry(%q) = %+v: accepted", name, e)
		}
	}
}

func TestEntryState(t *testing.T) {
	for _, tc := range []struct {
		e    update.Entry
		want string
		bad  bool
	}{
		{update.Entry{Gen: 1, Slot: "a"}, "committed", false},
		{update.Entry{Gen: 2, Slot: "b", Counted: true, Left: 1, Done: 0}, "installed", false},
		{update.Entry{Gen: 2, Slot: "b", Counted: true, Left: 1, Done: 1}, "trial", false},
		{update.Entry{Gen: 2, Slot: "b", Counted: true, Left: 0, Done: 1}, "failed", true},
	} {
		if got := tc.e.State(); got != tc.want {
			t.Errorf("%s: State() = %q, want %q", tc.e.Name(), got, tc.want)
		}
		if got := tc.e.Bad(); got != tc.bad {
			t.Errorf("%s: Bad() = %v, want %v", tc.e.Name(), got, tc.bad)
		}
	}
}

// entries parses names, failing the test on one that is not an entry.
func entries(t *testing.T, names ...string) []update.Entry {
	t.Helper()
	var es []update.Entry
	for _, n := range names {
		e, ok := update.ParseEntry(n)
		if !ok {
			t.Fatalf("ParseEntry(%q): refused", n)
		}
		es = append(es, e)
	}
	return es
}

func names(es []update.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestNext(t *testing.T) {
	for _, tc := range []struct {
		have []string
		want string
	}{
		// A failed trial falls back to the committed entry.
		{[]string{"unit-1-a.efi", "unit-2-b+0-1.efi"}, "unit-1-a.efi"},
		// A fresh install is tried first.
		{[]string{"unit-1-a.efi", "unit-2-b+1-0.efi"}, "unit-2-b+1-0.efi"},
		// A rolled-back slot (generation raised) wins over the old one.
		{[]string{"unit-3-a.efi", "unit-2-b.efi"}, "unit-3-a.efi"},
		{[]string{"unit-2-b.efi", "unit-3-a.efi"}, "unit-3-a.efi"},
		// Generations compare as numbers, not as strings.
		{[]string{"unit-9-a.efi", "unit-10-b.efi"}, "unit-10-b.efi"},
		// With only bad entries, the newest bad one.
		{[]string{"unit-4-a+0-3.efi", "unit-5-b+0-3.efi"}, "unit-5-b+0-3.efi"},
		{[]string{"unit-1-a.efi"}, "unit-1-a.efi"},
	} {
		es := entries(t, tc.have...)
		orig := slices.Clone(es)
		got, ok := update.Next(es)
		if !ok || got.Name() != tc.want {
			t.Errorf("Next(%q) = %q, %v: want %q", tc.have, got.Name(), ok, tc.want)
		}
		// Next sorts a copy.
		if !slices.Equal(es, orig) {
			t.Errorf("Next(%q) reordered its argument to %q", tc.have, names(es))
		}
	}
	if e, ok := update.Next(nil); ok {
		t.Errorf("Next(nil) = %+v, true", e)
	}
}

func TestSort(t *testing.T) {
	es := entries(t, "unit-2-b+0-1.efi", "unit-9-a.efi", "unit-1-a+0-2.efi", "unit-10-b+1-0.efi", "unit-3-a+1-1.efi")
	update.Sort(es)
	want := []string{"unit-10-b+1-0.efi", "unit-9-a.efi", "unit-3-a+1-1.efi", "unit-2-b+0-1.efi", "unit-1-a+0-2.efi"}
	if got := names(es); !slices.Equal(got, want) {
		t.Errorf("Sort: %q\nwant %q", got, want)
	}
}

func TestNextGen(t *testing.T) {
	for _, tc := range []struct {
		have []string
		want int
	}{
		{nil, 1},
		{[]string{"unit-1-a.efi", "unit-2-b.efi"}, 3},
		{[]string{"unit-7-b+0-3.efi", "unit-2-a.efi"}, 8}, // a failed entry's generation is used too
	} {
		if got := update.NextGen(entries(t, tc.have...)); got != tc.want {
			t.Errorf("NextGen(%q) = %d, want %d", tc.have, got, tc.want)
		}
	}
}

func TestSlots(t *testing.T) {
	if got := update.Other("a"); got != "b" {
		t.Errorf(`Other("a") = %q`, got)
	}
	if got := update.Other("b"); got != "a" {
		t.Errorf(`Other("b") = %q`, got)
	}
}

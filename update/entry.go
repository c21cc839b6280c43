// Package update is how a unit machine moves between images: the update
// bundle a build writes and a machine reads, and the boot entries on the
// EFI system partition that systemd-boot chooses from, with its boot
// counting deciding whether a new image gets another try. On the machine
// (Linux) it owns the whole lifecycle: the kernel command line's root
// (RootSpecFrom), and the two root slots with their ESP (OpenSlots):
// status, install, commit, a failed trial, rollback. PID 1 and the daemon
// only call it.
//
// A disk has two root slots, a and b. Each slot has at most one boot
// entry, \EFI\Linux\unit-GEN-SLOT.efi: a unified kernel image whose
// command line names that slot's partition. GEN grows with every install,
// and systemd-boot boots the highest one that is not bad. A new install is
// written as unit-GEN-SLOT+1-0.efi: systemd-boot renames it to +0-1 as it
// boots it, and unless unit on it renames it to unit-GEN-SLOT.efi (the
// commit), the next boot takes the other slot.
package update

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/unit-os/unit/disk"
)

// Other is the slot that is not slot.
func Other(slot string) string {
	if slot == "a" {
		return "b"
	}
	return "a"
}

// EntryDir is where the entries are on the ESP (the Boot Loader
// Specification's directory for unified kernel images).
const EntryDir = "EFI/Linux"

// Entry is one boot entry's file name, parsed.
type Entry struct {
	Gen  int
	Slot string
	// Counted: the name carries systemd-boot's boot counter (+LEFT-DONE),
	// so the entry is on trial (LEFT > 0) or has failed it (LEFT == 0).
	Counted    bool
	Left, Done int
}

// Name is the entry's file name.
func (e Entry) Name() string {
	s := fmt.Sprintf("unit-%d-%s", e.Gen, e.Slot)
	if e.Counted {
		s += fmt.Sprintf("+%d-%d", e.Left, e.Done)
	}
	return s + ".efi"
}

// Bad says systemd-boot will not pick the entry while another is good:
// its tries are used up and nobody committed it.
func (e Entry) Bad() bool { return e.Counted && e.Left == 0 }

// State is how status names an entry's state.
func (e Entry) State() string {
	switch {
	case !e.Counted:
		return "committed"
	case e.Left > 0 && e.Done == 0:
		return "installed"
	case e.Left > 0:
		return "trial"
	}
	return "failed"
}

// ParseEntry reads an entry's file name; ok is false for anything else
// on the ESP. FAT folds case, so the name is compared without it.
func ParseEntry(name string) (Entry, bool) {
	base, ok := strings.CutSuffix(strings.ToLower(name), ".efi")
	if !ok {
		return Entry{}, false
	}
	base, ok = strings.CutPrefix(base, "unit-")
	if !ok {
		return Entry{}, false
	}
	var e Entry
	if i := strings.IndexByte(base, '+'); i >= 0 {
		left, done, found := strings.Cut(base[i+1:], "-")
		l, err1 := strconv.Atoi(left)
		d, err2 := strconv.Atoi(done)
		if !found || err1 != nil || err2 != nil || l < 0 || d < 0 {
			return Entry{}, false
		}
		e.Counted, e.Left, e.Done = true, l, d
		base = base[:i]
	}
	gen, slot, found := strings.Cut(base, "-")
	g, err := strconv.Atoi(gen)
	if !found || err != nil || g <= 0 || !slices.Contains(disk.Slots, slot) {
		return Entry{}, false
	}
	e.Gen, e.Slot = g, slot
	return e, e.Name() == name || strings.EqualFold(e.Name(), name)
}

// Sort orders entries as systemd-boot does for ours (same os-release ID,
// no version): bad ones last, then by name, newest generation first.
func Sort(es []Entry) {
	slices.SortStableFunc(es, func(a, b Entry) int {
		if c := cmp.Compare(btoi(a.Bad()), btoi(b.Bad())); c != 0 {
			return c
		}
		return cmp.Compare(b.Gen, a.Gen)
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Next is the entry the next boot takes (the first after Sort), and
// false when there is none.
func Next(es []Entry) (Entry, bool) {
	if len(es) == 0 {
		return Entry{}, false
	}
	s := slices.Clone(es)
	Sort(s)
	return s[0], true
}

// NextGen is the generation a new install gets: one past every entry's.
func NextGen(es []Entry) int {
	g := 0
	for _, e := range es {
		g = max(g, e.Gen)
	}
	return g + 1
}

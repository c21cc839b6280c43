package update

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/unit-os/unit/safepath"
	"github.com/unit-os/unit/uki"
)

// ESP is a mounted EFI system partition, by its mount point.
type ESP struct{ Dir string }

// Loader files on the ESP: systemd-boot as the removable-media path
// (firmware boots it with no NVRAM entry), its configuration, and the
// note a failed trial leaves for the slot it falls back to.
const (
	LoaderPath = "EFI/BOOT/BOOTX64.EFI"
	LoaderConf = "loader/loader.conf"
	NotePath   = "EFI/unit/trial.json"
	// LoaderConfText boots the first entry at once (a key held down shows
	// the menu) and forbids editing the command line there.
	LoaderConfText = "timeout 0\neditor no\n"
)

// Entries lists the unit boot entries on the ESP, unsorted.
func (p ESP) Entries() ([]Entry, error) {
	des, err := os.ReadDir(filepath.Join(p.Dir, EntryDir))
	if err != nil {
		return nil, fmt.Errorf("esp: %w", err)
	}
	var out []Entry
	for _, de := range des {
		if e, ok := ParseEntry(de.Name()); ok && de.Type().IsRegular() {
			out = append(out, e)
		}
	}
	return out, nil
}

// SlotEntry is slot's entry, the newest when (after a crash) there are
// two; ok is false when the slot has none.
func SlotEntry(es []Entry, slot string) (Entry, bool) {
	var best Entry
	ok := false
	for _, e := range es {
		if e.Slot == slot && (!ok || e.Gen > best.Gen) {
			best, ok = e, true
		}
	}
	return best, ok
}

// RemoveSlot deletes every entry of slot, first of all before its
// partition is written: a boot entry never points at a half-written root.
func (p ESP) RemoveSlot(slot string) error {
	es, err := p.Entries()
	if err != nil {
		return err
	}
	dir := filepath.Join(p.Dir, EntryDir)
	for _, e := range es {
		if e.Slot == slot {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("esp: %w", err)
			}
		}
	}
	if err := safepath.SyncDir(dir); err != nil {
		return fmt.Errorf("esp: %w", err)
	}
	return nil
}

// Install writes the unified kernel image as entry e atomically
// (safepath.WriteFile), so a power cut leaves either no entry or a whole
// one. Temp files a power cut left first (unit-new.tmp is older units'
// name) go.
func (p ESP) Install(e Entry, image []byte) error {
	dir := filepath.Join(p.Dir, EntryDir)
	os.Remove(filepath.Join(dir, "unit-new.tmp"))
	safepath.Sweep(dir)
	if err := writeFAT(filepath.Join(dir, e.Name()), image); err != nil {
		return fmt.Errorf("esp: install %s: %w", e.Name(), err)
	}
	return nil
}

// writeFAT replaces path with data atomically, its mode as the mount gives
// it: FAT refuses most chmods.
func writeFAT(path string, data []byte) error {
	return safepath.WriteFile(path, data, 0o644, -1, -1, safepath.AsCreated())
}

// Rename gives entry from the name of to (a commit drops the counter, a
// rollback raises the generation).
func (p ESP) Rename(from, to Entry) error {
	dir := filepath.Join(p.Dir, EntryDir)
	if err := os.Rename(filepath.Join(dir, from.Name()), filepath.Join(dir, to.Name())); err != nil {
		return fmt.Errorf("esp: %w", err)
	}
	if err := safepath.SyncDir(dir); err != nil {
		return fmt.Errorf("esp: %w", err)
	}
	return nil
}

// Info is what an entry's image says about itself (its .osrel section).
type Info struct {
	Release string `json:"release,omitempty"`
	Kernel  string `json:"kernel,omitempty"`
}

// ReadInfo reads the release and kernel of entry e's image (its .osrel
// section only).
func (p ESP) ReadInfo(e Entry) (Info, error) {
	f, err := os.Open(filepath.Join(p.Dir, EntryDir, e.Name()))
	if err != nil {
		return Info{}, fmt.Errorf("esp: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Info{}, fmt.Errorf("esp: %w", err)
	}
	osrel, err := uki.ReadSection(f, fi.Size(), ".osrel", 64<<10)
	if err != nil {
		return Info{}, fmt.Errorf("esp: %s: %w", e.Name(), err)
	}
	return parseOSRelease(osrel), nil
}

// OSRelease is the .osrel section of a unit image. It carries no
// VERSION_ID: systemd-boot would order entries by it (a kernel version)
// before their names, and unit's order is the generation in the name.
func OSRelease(hostname, release, kernel string) []byte {
	return fmt.Appendf(nil, "NAME=unit\nID=unit\nPRETTY_NAME=\"unit %s %s\"\nUNIT_RELEASE=%s\nUNIT_KERNEL=%s\n",
		hostname, release, release, kernel)
}

// ImageInfo reads UNIT_RELEASE and UNIT_KERNEL from a unified kernel
// image's .osrel section.
func ImageInfo(image []byte) (Info, error) {
	osrel, err := uki.Data(image, ".osrel")
	if err != nil {
		return Info{}, err
	}
	return parseOSRelease(osrel), nil
}

func parseOSRelease(osrel []byte) Info {
	var in Info
	sc := bufio.NewScanner(bytes.NewReader(osrel))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		v = strings.Trim(v, `"`)
		switch k {
		case "UNIT_RELEASE":
			in.Release = v
		case "UNIT_KERNEL":
			in.Kernel = v
		}
	}
	return in
}

// Note is what a trial that failed says, for the boot after it.
type Note struct {
	Gen     int    `json:"gen"`
	Slot    string `json:"slot"`
	Release string `json:"release,omitempty"`
	Reason  string `json:"reason"`
}

// WriteNote leaves n on the ESP (replacing an older note).
func (p ESP) WriteNote(n Note) error {
	b, err := json.Marshal(n)
	if err != nil {
		return err
	}
	path := filepath.Join(p.Dir, NotePath)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("esp: %w", err)
	}
	if err := writeFAT(path, b); err != nil {
		return fmt.Errorf("esp: note: %w", err)
	}
	return nil
}

// ReadNote reads the note; ok is false when there is none (or it is not
// one: the ESP is anybody's FAT).
func (p ESP) ReadNote() (Note, bool) {
	b, err := os.ReadFile(filepath.Join(p.Dir, NotePath))
	if err != nil || len(b) > 64<<10 {
		return Note{}, false
	}
	var n Note
	if json.Unmarshal(b, &n) != nil || n.Gen <= 0 {
		return Note{}, false
	}
	return n, true
}

// RemoveNote deletes the note (a new install makes it stale).
func (p ESP) RemoveNote() error {
	err := os.Remove(filepath.Join(p.Dir, NotePath))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("esp: %w", err)
	}
	return nil
}

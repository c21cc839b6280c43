package update

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/disk"
	"github.com/unit-os/unit/kmod"
	"github.com/unit-os/unit/uki"
)

// espMount is where the ESP is mounted while unit works on it (and only
// then: a FAT left mounted is a FAT left dirty by a power cut).
const espMount = "/run/unit/esp"

// Slots is a disk machine's two root slots and its ESP: which slot runs,
// what each holds, and the operations that move the machine between them.
type Slots struct {
	log     *slog.Logger
	esp     string              // the ESP's device
	parts   map[string]slotPart // by slot name
	running string              // the slot this boot runs

	mu      sync.Mutex // one ESP mount, install or commit at a time
	entries []Entry
	info    map[string]Info // by slot, read from its entry's image
	note    *Note
	busy    atomic.Bool // an install is under way
}

// slotPart is one slot's partition.
type slotPart struct {
	Dev      string // /dev/vda3
	PARTUUID string
	Size     int64
}

// OpenSlots finds the slots of the disk the running root is on, from the
// kernel command line's unit.root; nil (and no error) when this boot has
// no root partition (the initramfs format) or its disk has no slots.
func OpenSlots(log *slog.Logger, b disk.Devices, cmdline string) (*Slots, error) {
	spec, ok, err := RootSpecFrom(cmdline)
	if !ok || err != nil {
		return nil, err
	}
	for _, name := range b.Disks() {
		parts, err := b.Partitions(name)
		if err != nil {
			continue
		}
		s := &Slots{log: log, parts: map[string]slotPart{}}
		for n, p := range parts {
			dev := b.PartitionName(name, n)
			if dev == "" {
				continue
			}
			if p.Type == disk.TypeESP {
				s.esp = filepath.Join(b.Dev, dev)
			} else if slot, ok := disk.SlotOf(p.Name); ok {
				s.parts[slot] = slotPart{Dev: filepath.Join(b.Dev, dev), PARTUUID: p.GUID, Size: b.PartitionSize(name, dev)}
				if p.GUID == spec.PARTUUID {
					s.running = slot
				}
			}
		}
		if s.running == "" {
			continue // not the root's disk
		}
		if s.esp == "" || len(s.parts) != 2 {
			return nil, fmt.Errorf("disk %s: the root is in slot %s, but the disk has no ESP or no second slot", name, s.running)
		}
		return s, nil
	}
	return nil, nil
}

// withESP mounts the ESP, runs fn on it, reads the slots' state back
// (after a failure too: the ESP is what it is now), and unmounts it
// again, synced: one mount per change. The caller holds s.mu.
func (s *Slots) withESP(fn func(ESP) error) error {
	// The build puts the ESP's modules on the root; a kernel with them
	// built in needs none.
	if l, err := kmod.NewLoader(""); err == nil {
		for _, m := range disk.ESPModules {
			if _, err := l.Load(m); err != nil {
				s.log.Debug("esp module", "module", m, "err", err)
			}
		}
	}
	if err := os.MkdirAll(espMount, 0o700); err != nil {
		return fmt.Errorf("esp: %w", err)
	}
	if err := unix.Mount(s.esp, espMount, "vfat", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "umask=077"); err != nil {
		return fmt.Errorf("esp: mount %s: %w", s.esp, err)
	}
	esp := ESP{Dir: espMount}
	err := fn(esp)
	if rerr := s.read(esp); err == nil {
		err = rerr
	}
	unix.Sync()
	if uerr := unix.Unmount(espMount, 0); uerr != nil {
		s.log.Error("esp: unmount", "err", uerr)
		_ = unix.Unmount(espMount, unix.MNT_DETACH)
	}
	return err
}

// read takes the entries, what their images are, and the note from the
// mounted ESP.
func (s *Slots) read(esp ESP) error {
	es, err := esp.Entries()
	if err != nil {
		return err
	}
	s.entries = es
	s.info = map[string]Info{}
	for _, slot := range disk.Slots {
		if e, ok := SlotEntry(es, slot); ok {
			in, err := esp.ReadInfo(e)
			if err != nil {
				s.log.Warn("esp: entry", "entry", e.Name(), "err", err)
			}
			s.info[slot] = in
		}
	}
	s.note = nil
	if n, ok := esp.ReadNote(); ok {
		s.note = &n
	}
	return nil
}

// Load reads the slots' state at boot.
func (s *Slots) Load() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.withESP(func(ESP) error { return nil })
}

// Running is the slot this boot runs.
func (s *Slots) Running() string { return s.running }

// Info is what slot's image says about itself.
func (s *Slots) Info(slot string) Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info[slot]
}

// current is the running slot's entry.
func (s *Slots) current() (Entry, bool) {
	return SlotEntry(s.entries, s.running)
}

// Trial says this boot is an update on trial: its entry still counts
// boots, so unless unit commits it, the next boot takes the other slot.
func (s *Slots) Trial() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.current()
	return ok && e.Counted
}

// SlotStatus is what one slot holds, as status shows it (api.SlotStatus
// has the same fields).
type SlotStatus struct {
	Slot    string // a or b
	Running bool
	Gen     int // 0: no boot entry
	Release string
	Kernel  string
	// State: committed, trial (running, not yet committed), installed
	// (the next boot tries it), failed (it did not commit), or empty.
	State string
	// Next: the next boot takes this slot.
	Next   bool
	Reason string // why a trial failed
}

// Status is both slots, the running one first.
func (s *Slots) Status() []SlotStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	next, hasNext := Next(s.entries)
	var out []SlotStatus
	for _, slot := range []string{s.running, Other(s.running)} {
		st := SlotStatus{Slot: slot, Running: slot == s.running, State: "empty"}
		if e, ok := SlotEntry(s.entries, slot); ok {
			st.Gen, st.State = e.Gen, e.State()
			if st.Running && e.Counted {
				st.State = "trial"
			}
			st.Next = hasNext && next == e
			in := s.info[slot]
			st.Release, st.Kernel = in.Release, in.Kernel
			if n := s.note; n != nil && n.Slot == slot && n.Gen == e.Gen {
				st.Reason = n.Reason
			}
			if st.State == "failed" && st.Reason == "" {
				st.Reason = "never committed: it did not reach unit, or unit died on it"
			}
		}
		out = append(out, st)
	}
	return out
}

// Commit ends the trial of the running slot: its entry loses the boot
// counter, so every boot takes it from now on.
func (s *Slots) Commit() (Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.current()
	if !ok || !e.Counted {
		return e, errors.New("the running slot is not on trial")
	}
	to := Entry{Gen: e.Gen, Slot: e.Slot}
	err := s.withESP(func(esp ESP) error {
		if err := esp.Rename(e, to); err != nil {
			return err
		}
		return esp.RemoveNote()
	})
	return to, err
}

// FailTrial leaves why the running slot's trial failed for the next boot
// and makes sure that boot takes the other slot.
func (s *Slots) FailTrial(reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.current()
	if !ok || !e.Counted {
		return errors.New("the running slot is not on trial")
	}
	err := s.withESP(func(esp ESP) error {
		werr := esp.WriteNote(Note{Gen: e.Gen, Slot: e.Slot, Release: s.info[e.Slot].Release, Reason: reason})
		if e.Left > 0 {
			bad := e
			bad.Left = 0
			return errors.Join(werr, esp.Rename(e, bad))
		}
		return werr
	})
	return err
}

// Rollback makes the other slot's image, which ran before, the one the
// next boot takes: its entry gets the next generation.
func (s *Slots) Rollback() (Entry, error) {
	if !s.busy.CompareAndSwap(false, true) {
		return Entry{}, errors.New("an update is being installed")
	}
	defer s.busy.Store(false)
	s.mu.Lock()
	defer s.mu.Unlock()
	other := Other(s.running)
	e, ok := SlotEntry(s.entries, other)
	switch {
	case !ok:
		return e, fmt.Errorf("slot %s holds no image to go back to", other)
	case e.Bad():
		return e, fmt.Errorf("slot %s holds generation %d, which failed its trial", other, e.Gen)
	case e.Counted:
		return e, fmt.Errorf("slot %s holds generation %d, installed and not tried yet: reboot to try it", other, e.Gen)
	}
	to := Entry{Gen: NextGen(s.entries), Slot: other}
	err := s.withESP(func(esp ESP) error { return esp.Rename(e, to) })
	return to, err
}

// Install writes the bundle read from r into the slot that is not
// running and makes it the next boot's, on trial: the other slot's entry
// goes first (no entry ever names a half-written root), the root streams
// into its partition and is read back, and the image gets its entry last.
// progress receives one line per step. A failure at any point leaves the
// running slot the one every boot takes.
func (s *Slots) Install(ctx context.Context, r io.Reader, pin string, progress func(string)) (Entry, error) {
	if !s.busy.CompareAndSwap(false, true) {
		return Entry{}, errors.New("an update is being installed already")
	}
	defer s.busy.Store(false)
	// The image (tens of MB) was held only for this: give it back.
	defer debug.FreeOSMemory()
	// On trial, the other slot is the one to fall back to: writing it
	// would leave no image known to work.
	s.mu.Lock()
	cur, ok := s.current()
	s.mu.Unlock()
	if ok && cur.Counted {
		return Entry{}, fmt.Errorf("this boot (generation %d) is on trial, and slot %s is what it falls back to: wait for the commit, or roll back first", cur.Gen, Other(s.running))
	}
	br, err := NewReader(r)
	if err != nil {
		return Entry{}, err
	}
	m := br.Manifest()
	if pin != "" && br.ID() != "sha256:"+pin {
		return Entry{}, fmt.Errorf("bundle %s is not the one pinned (--sha256 %s)", br.ID(), pin)
	}
	target := Other(s.running)
	part := s.parts[target]
	root, _ := m.Part(RootPart)
	progress(fmt.Sprintf("bundle %s: release %s, kernel %s, root %d bytes; installing into slot %s (%s)", br.ID(), m.Release, m.Kernel, root.Size, target, part.Dev))
	if root.Size > part.Size {
		return Entry{}, fmt.Errorf("the root (%d bytes) does not fit slot %s (%d bytes): build the disk with a larger [system] slot_size", root.Size, target, part.Size)
	}
	var image []byte
	for range 2 { // the build manifest, then the UKI
		p, rd, err := br.Next()
		if err != nil {
			return Entry{}, err
		}
		b, err := ReadPart(p, rd)
		if err != nil {
			return Entry{}, err
		}
		if p.Name == UKIPart {
			image = b
		}
	}
	if image, err = uki.SetRoot(image, part.PARTUUID); err != nil {
		return Entry{}, fmt.Errorf("bundle: %s: %w", UKIPart, err)
	}
	s.mu.Lock()
	// The generation is taken before the target's old entry goes: a
	// generation is never given twice.
	gen := NextGen(s.entries)
	err = s.withESP(func(esp ESP) error { return esp.RemoveSlot(target) })
	s.mu.Unlock()
	if err != nil {
		return Entry{}, err
	}
	p, rd, err := br.Next()
	if err != nil {
		return Entry{}, err
	}
	if err := writeSlot(ctx, part.Dev, p, rd, progress); err != nil {
		return Entry{}, fmt.Errorf("slot %s: %w", target, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := Entry{Gen: max(gen, NextGen(s.entries)), Slot: target, Counted: true, Left: 1}
	err = s.withESP(func(esp ESP) error {
		if err := esp.RemoveNote(); err != nil {
			return err
		}
		return esp.Install(e, image)
	})
	if err != nil {
		return e, err
	}
	progress(fmt.Sprintf("slot %s: generation %d installed; the next boot tries it once", target, e.Gen))
	return e, nil
}

// writeSlot streams a part into the partition dev, syncs it and reads it
// back: the bytes on the disk must be the ones the manifest names. The
// partition is opened exclusively (the kernel refuses if it is mounted:
// never the running root) and must be a block device.
func writeSlot(ctx context.Context, dev string, p Part, r io.Reader, progress func(string)) error {
	fd, err := unix.Open(dev, unix.O_RDWR|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", dev, err)
	}
	f := os.NewFile(uintptr(fd), dev)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return fmt.Errorf("%s is not a block device", dev)
	}
	w := &progressWriter{w: f, total: p.Size, report: progress, ctx: ctx}
	if _, err := io.Copy(w, r); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dev, err)
	}
	// Read back past the page cache's say-so: drop it first.
	_ = unix.Fadvise(fd, 0, p.Size, unix.FADV_DONTNEED)
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, p.Size)); err != nil {
		return fmt.Errorf("read back %s: %w", dev, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != p.SHA256 {
		return fmt.Errorf("read back %s: sha256 %s, want %s", dev, got, p.SHA256)
	}
	progress(fmt.Sprintf("root: %d bytes written to %s and read back, sha256 %s", p.Size, dev, p.SHA256[:12]))
	return nil
}

// progressWriter reports every tenth of the way and stops when ctx ends.
type progressWriter struct {
	ctx    context.Context
	w      io.Writer
	total  int64
	n      int64
	shown  int64
	report func(string)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	if err := p.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := p.w.Write(b)
	p.n += int64(n)
	if tenth := p.n * 10 / max(p.total, 1); tenth > p.shown && tenth < 10 {
		p.shown = tenth
		p.report(fmt.Sprintf("root: %d%% (%d of %d bytes)", tenth*10, p.n, p.total))
	}
	return n, err
}

package uki

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"os"
	"strings"
	"testing"
)

const (
	oldUUID = "11111111-2222-3333-4444-555555555555"
	newUUID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	cmdline = "console=ttyS0 unit.root=PARTUUID=" + oldUUID + " panic=-1"
)

// buildWithCmdline is a small UKI from the real stub (the test is
// skipped without it) with the command line cmd.
func buildWithCmdline(tb testing.TB, cmd string) []byte {
	tb.Helper()
	stub, err := os.ReadFile(StubPath)
	if err != nil {
		tb.Skipf("no EFI stub: %v", err)
	}
	b, err := Build(stub, []Section{
		{".osrel", []byte("ID=unit\n")},
		{".cmdline", []byte(cmd)},
		{".linux", bytes.Repeat([]byte{0xAB}, 100)},
		{".initrd", bytes.Repeat([]byte{0xCD}, 50)},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// peSection reads a section with debug/pe, independently of find.
func peSection(t *testing.T, b []byte, name string) []byte {
	t.Helper()
	f, err := pe.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("debug/pe: %v", err)
	}
	s := f.Section(name)
	if s == nil {
		t.Fatalf("debug/pe: no %s section", name)
	}
	d, err := s.Data()
	if err != nil {
		t.Fatalf("debug/pe: %s: %v", name, err)
	}
	return d[:min(len(d), int(s.VirtualSize))]
}

// checksumOff is the offset of the PE checksum field.
func checksumOff(b []byte) int {
	return int(binary.LittleEndian.Uint32(b[0x3c:])) + 4 + 20 + optCheckSum
}

// refChecksum is the PE checksum as the format describes it, written
// out apart from peChecksum: 16-bit little-endian words of the file
// (the checksum field as zero, an odd last byte padded) added with
// end-around carry, plus the file's length.
func refChecksum(b []byte) uint32 {
	c := append([]byte(nil), b...)
	copy(c[checksumOff(b):], []byte{0, 0, 0, 0})
	if len(c)%2 == 1 {
		c = append(c, 0)
	}
	var sum uint32
	for i := 0; i < len(c); i += 2 {
		sum += uint32(c[i]) | uint32(c[i+1])<<8
		sum = sum&0xffff + sum>>16
	}
	return sum + uint32(len(b))
}

func TestData(t *testing.T) {
	b := buildWithCmdline(t, cmdline)
	for name, want := range map[string]string{".cmdline": cmdline, ".osrel": "ID=unit\n"} {
		if got, err := Data(b, name); err != nil || string(got) != want {
			t.Errorf("Data(%s) = %q, %v: want %q", name, got, err, want)
		}
	}
	if got, err := Data(b, ".nothere"); err == nil {
		t.Errorf("Data(.nothere) = %d bytes: no error", len(got))
	}
}

func TestSetRoot(t *testing.T) {
	b := buildWithCmdline(t, cmdline)
	orig := append([]byte(nil), b...)
	out, err := SetRoot(b, newUUID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, orig) {
		t.Error("SetRoot changed its input")
	}
	if len(out) != len(b) {
		t.Errorf("SetRoot: %d bytes, want %d", len(out), len(b))
	}
	want := strings.Replace(cmdline, oldUUID, newUUID, 1)
	if got := peSection(t, out, ".cmdline"); string(got) != want {
		t.Errorf(".cmdline = %q\nwant %q", got, want)
	}
	// Nothing else moved: the other sections read the same.
	for _, name := range []string{".osrel", ".linux", ".initrd", ".text"} {
		if !bytes.Equal(peSection(t, out, name), peSection(t, b, name)) {
			t.Errorf("section %s changed", name)
		}
	}
	// The checksum is the edited file's, not the original's.
	at := checksumOff(out)
	sumOut, sumIn := binary.LittleEndian.Uint32(out[at:]), binary.LittleEndian.Uint32(b[at:])
	if want := peChecksum(out, at); sumOut != want {
		t.Errorf("checksum %#x, want %#x", sumOut, want)
	}
	if want := refChecksum(out); sumOut != want {
		t.Errorf("checksum %#x, the reference computation says %#x", sumOut, want)
	}
	if sumIn != refChecksum(b) {
		t.Errorf("Build's checksum %#x, the reference computation says %#x", sumIn, refChecksum(b))
	}
	if sumOut == sumIn {
		t.Errorf("checksum %#x unchanged by the edit", sumOut)
	}
	// Only the command line and the checksum differ.
	off, n, err := find(b, ".cmdline")
	if err != nil {
		t.Fatal(err)
	}
	for i := range out {
		inCmdline, inSum := i >= off && i < off+n, i >= at && i < at+4
		if out[i] != b[i] && !inCmdline && !inSum {
			t.Fatalf("byte %#x changed, outside the command line and the checksum", i)
		}
	}
	// Setting it back gives back the original.
	if back, err := SetRoot(out, oldUUID); err != nil || !bytes.Equal(back, b) {
		t.Errorf("SetRoot back to %s: %v, same bytes: %v", oldUUID, err, bytes.Equal(back, b))
	}
}

func TestSetRootRefuses(t *testing.T) {
	good := buildWithCmdline(t, cmdline)
	for _, tc := range []struct {
		name string
		b    []byte
		uuid string
	}{
		{"uuid short", good, newUUID[:35]},
		{"uuid long", good, newUUID + "f"},
		{"uuid empty", good, ""},
		{"no unit.root", buildWithCmdline(t, "console=ttyS0 root=PARTUUID="+oldUUID), newUUID},
		{"unit.root without PARTUUID", buildWithCmdline(t, "unit.root=/dev/vda2 panic=-1 xxxxxxxxxxxxxxxxxxxx"), newUUID},
		{"unit.root twice", buildWithCmdline(t, cmdline+" unit.root=PARTUUID="+oldUUID), newUUID},
		{"PARTUUID longer", buildWithCmdline(t, "unit.root=PARTUUID="+oldUUID+"x panic=-1"), newUUID},
		{"PARTUUID longer at the end", buildWithCmdline(t, "unit.root=PARTUUID="+oldUUID+"66"), newUUID},
		{"PARTUUID shorter at the end", buildWithCmdline(t, "console=ttyS0 unit.root=PARTUUID="+oldUUID[:30]), newUUID},
		{"empty command line", buildWithCmdline(t, ""), newUUID},
		// A value shorter than a uuid must not let the edit run over
		// the next parameter.
		{"PARTUUID short, next parameter after", buildWithCmdline(t, "unit.root=PARTUUID=short "+strings.Repeat("y", 30)), newUUID},
		{"unit.root inside another word", buildWithCmdline(t, "xunit.root=PARTUUID="+oldUUID), newUUID},
		{"a second unit.root of another form", buildWithCmdline(t, "unit.root=PARTUUID="+oldUUID+" unit.root=/dev/vda2"), newUUID},
		{"new uuid not hex", good, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeee ini"},
		{"no .cmdline", func() []byte {
			// The section renamed in its header: .cmdline becomes .cmdlinX.
			b := append([]byte(nil), good...)
			h, err := parsePE(b)
			if err != nil {
				t.Fatal(err)
			}
			for i := range h.sections {
				name := b[h.table+i*sectionHeaderSize:][:8]
				if string(name) == ".cmdline" {
					name[7] = 'X'
					return b
				}
			}
			t.Fatal("no .cmdline section header")
			return nil
		}(), newUUID},
		{"not a PE image", []byte(cmdline), newUUID},
		{"two .cmdline sections", twoCmdlines(t), newUUID},
	} {
		if out, err := SetRoot(tc.b, tc.uuid); err == nil {
			t.Errorf("%s: accepted (%d bytes)", tc.name, len(out))
		}
	}
}

// twoCmdlines is a UKI with two .cmdline sections, each naming a root:
// which one the stub reads is not for SetRoot to guess.
func twoCmdlines(t *testing.T) []byte {
	t.Helper()
	stub, err := os.ReadFile(StubPath)
	if err != nil {
		t.Skipf("no EFI stub: %v", err)
	}
	b, err := Build(stub, []Section{{".cmdline", []byte(cmdline)}, {".osrel", []byte("ID=unit\n")}, {".cmdline", []byte(cmdline)}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Data(b, ".cmdline"); err == nil {
		t.Errorf("Data(.cmdline) with two of them = %q: no error", got)
	}
	return b
}

func TestTruncated(t *testing.T) {
	b := buildWithCmdline(t, cmdline)
	f, err := pe.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	lfanew := int(binary.LittleEndian.Uint32(b[0x3c:]))
	table := lfanew + 4 + 20 + int(f.FileHeader.SizeOfOptionalHeader)
	last := table + (len(f.Sections)-1)*sectionHeaderSize
	cmd, initrd := f.Section(".cmdline"), f.Section(".initrd")
	for _, tc := range []struct {
		name    string
		cut     int
		section string
	}{
		{"in the optional header", lfanew + 30, ".cmdline"},
		{"in the section table", table + sectionHeaderSize + 7, ".cmdline"},
		{"in the last section header", last + 30, ".cmdline"},
		{"in .cmdline's data", int(cmd.Offset) + 10, ".cmdline"},
		{"at .cmdline's data", int(cmd.Offset), ".cmdline"},
		{"in .initrd's data", int(initrd.Offset) + 10, ".initrd"},
		{"one byte short of .initrd", int(initrd.Offset + initrd.VirtualSize - 1), ".initrd"},
	} {
		cut := b[:tc.cut:tc.cut]
		if got, err := Data(cut, tc.section); err == nil {
			t.Errorf("Data(%s) of an image cut %s: %d bytes, no error", tc.section, tc.name, len(got))
		}
		if tc.section == ".cmdline" {
			if _, err := SetRoot(cut, newUUID); err == nil {
				t.Errorf("SetRoot of an image cut %s: no error", tc.name)
			}
		}
	}
	// Cut after the command line, the command line is still there whole.
	cut := b[:int(initrd.Offset)+10]
	if got, err := Data(cut, ".cmdline"); err != nil || string(got) != cmdline {
		t.Errorf("Data(.cmdline) of an image cut in .initrd = %q, %v", got, err)
	}
}

// FuzzSetRoot: no input makes SetRoot panic, and what it returns is an
// edit in place (the same length).
func FuzzSetRoot(f *testing.F) {
	good := buildWithCmdline(f, cmdline)
	f.Add(good, newUUID)
	f.Add(good[:len(good)/2], newUUID)
	f.Add(buildWithCmdline(f, "unit.root=PARTUUID="+oldUUID), oldUUID)
	f.Fuzz(func(t *testing.T, b []byte, uuid string) {
		out, err := SetRoot(b, uuid)
		if err == nil && len(out) != len(b) {
			t.Errorf("SetRoot: %d bytes from %d", len(out), len(b))
		}
	})
}

// TestReadSection reads one section of an image file without the rest,
// and refuses a section past the file's end or over the limit.
func TestReadSection(t *testing.T) {
	b := buildWithCmdline(t, cmdline)
	want, err := Data(b, ".cmdline")
	if err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(b)
	got, err := ReadSection(r, int64(len(b)), ".cmdline", 1<<10)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ReadSection: %q, %v; want %q", got, err, want)
	}
	if _, err := ReadSection(r, int64(len(b)), ".cmdline", 4); err == nil {
		t.Error("a section over the limit was read")
	}
	short := b[:len(b)-len(b)/4]
	if _, err := ReadSection(bytes.NewReader(short), int64(len(short)), ".initrd", 1<<30); err == nil {
		t.Error("a section past the end of a truncated file was read")
	}
	if _, err := ReadSection(r, int64(len(b)), ".nothere", 1<<10); err == nil {
		t.Error("a missing section was read")
	}
}

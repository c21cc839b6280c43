package uki

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestUKISections(t *testing.T) {
	stub, err := os.ReadFile(StubPath)
	if err != nil {
		t.Skipf("no EFI stub: %v", err)
	}
	linux := bytes.Repeat([]byte{0xAB}, 5000)
	initrd := bytes.Repeat([]byte{0xCD}, 3000)
	uki, err := Build(stub, []Section{{".osrel", []byte("ID=unit\n")}, {".cmdline", []byte("console=ttyS0")}, {".linux", linux}, {".initrd", initrd}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := pe.NewFile(bytes.NewReader(uki))
	if err != nil {
		t.Fatalf("the UKI is not a PE file: %v", err)
	}
	orig, _ := pe.NewFile(bytes.NewReader(stub))
	var stubEnd uint32
	for _, s := range orig.Sections {
		stubEnd = max(stubEnd, s.VirtualAddress+s.VirtualSize)
	}
	want := map[string][]byte{".osrel": []byte("ID=unit\n"), ".cmdline": []byte("console=ttyS0"), ".linux": linux, ".initrd": initrd}
	prevEnd := stubEnd
	for _, s := range f.Sections[len(orig.Sections):] {
		data, err := s.Data()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data[:s.VirtualSize], want[s.Name]) {
			t.Errorf("section %s: data differs", s.Name)
		}
		if s.VirtualAddress%SectionAlign != 0 || s.VirtualAddress < prevEnd {
			t.Errorf("section %s at %#x: want aligned, after %#x", s.Name, s.VirtualAddress, prevEnd)
		}
		prevEnd = s.VirtualAddress + s.VirtualSize
		delete(want, s.Name)
	}
	if len(want) != 0 {
		t.Errorf("missing sections %v", want)
	}
	if size := f.OptionalHeader.(*pe.OptionalHeader64).SizeOfImage; size < prevEnd {
		t.Errorf("SizeOfImage %#x < end of last section %#x", size, prevEnd)
	}
	// A second opinion from binutils, when it is installed.
	if objdump, err := exec.LookPath("objdump"); err == nil {
		p := filepath.Join(t.TempDir(), "uki.efi")
		if err := os.WriteFile(p, uki, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(objdump, "-h", p).CombinedOutput()
		if err != nil || !strings.Contains(string(out), ".initrd") {
			t.Errorf("objdump -h: %v\n%s", err, out)
		}
	}
}

func TestParsePERejects(t *testing.T) {
	stub, err := os.ReadFile(StubPath)
	if err != nil {
		t.Skipf("%s: %v", StubPath, err)
	}
	if _, err := parsePE(stub); err != nil {
		t.Fatalf("the real stub: %v", err)
	}
	bad := func(edit func(b []byte) []byte) []byte { return edit(append([]byte(nil), stub...)) }
	lfanew := int(binary.LittleEndian.Uint32(stub[0x3c:]))
	for name, b := range map[string][]byte{
		"empty":     nil,
		"no MZ":     bad(func(b []byte) []byte { b[0] = 'X'; return b }),
		"no PE":     bad(func(b []byte) []byte { b[lfanew] = 'X'; return b }),
		"PE32":      bad(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[lfanew+24:], 0x10b); return b }),
		"truncated": stub[:lfanew+100],
	} {
		if _, err := parsePE(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

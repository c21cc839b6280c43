package execfile

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stdInterp is debug/elf's answer, the one ELFInterp replaces: the first
// PT_INTERP, up to its first NUL.
func stdInterp(t testing.TB, r io.ReaderAt) (string, bool) {
	ef, err := elf.NewFile(r)
	if err != nil {
		return "", false
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			b, err := io.ReadAll(io.LimitReader(p.Open(), maxInterp))
			if err != nil {
				return "", false
			}
			s, _, _ := bytes.Cut(b, []byte{0})
			return string(s), true
		}
	}
	return "", true
}

func interpOfFile(t *testing.T, path string) (string, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return ELFInterp(f)
}

// The programs of this host read the same as with debug/elf: dynamic ones
// (/bin/ls), this test binary (static, or dynamic when -race brings cgo
// in) and every other ELF file in /usr/bin and /usr/lib/x86_64-linux-gnu's
// top.
func TestELFInterpHost(t *testing.T) {
	got, err := interpOfFile(t, "/bin/ls")
	if err != nil || !strings.HasSuffix(got, "/ld-linux-x86-64.so.2") {
		t.Errorf("/bin/ls: %q, %v", got, err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	sf, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := stdInterp(t, sf)
	sf.Close()
	if got, err := interpOfFile(t, self); err != nil || got != want {
		t.Errorf("%s: %q, %v; debug/elf says %q", self, got, err, want)
	}
	var paths []string
	for _, g := range []string{"/usr/bin/*", "/usr/lib/x86_64-linux-gnu/*.so*"} {
		m, _ := filepath.Glob(g)
		paths = append(paths, m...)
	}
	n := 0
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		want, ok := stdInterp(t, f)
		got, err := ELFInterp(f)
		f.Close()
		if !ok {
			if err == nil && got != "" {
				t.Errorf("%s: debug/elf refuses it, ELFInterp says %q", p, got)
			}
			continue
		}
		n++
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; debug/elf says %q", p, got, err, want)
		}
	}
	t.Logf("%d ELF files agree", n)
}

func TestELFInterpNotELF(t *testing.T) {
	for _, b := range []string{"", "\x7fEL", "#!/bin/sh\necho hi\n", strings.Repeat("x", 100)} {
		if got, err := ELFInterp(bytes.NewReader([]byte(b))); !errors.Is(err, ErrNotELF) {
			t.Errorf("%q: %q, %v", b, got, err)
		}
	}
}

// Every prefix of a real program is an error or, once the interpreter is
// whole, the answer: never a panic or a wrong path.
func TestELFInterpTruncated(t *testing.T) {
	b, err := os.ReadFile("/bin/ls")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := stdInterp(t, bytes.NewReader(b))
	end := bytes.Index(b, []byte(want+"\x00")) + len(want) + 1
	for n := 0; n <= end; n++ {
		got, err := ELFInterp(bytes.NewReader(b[:n]))
		if n < end && err == nil {
			t.Fatalf("%d of %d bytes: %q, no error", n, end, got)
		}
		if n == end && (err != nil || got != want) {
			t.Fatalf("%d bytes: %q, %v", n, got, err)
		}
	}
}

// synth is an ELF file of class (1: 32-bit, 2: 64-bit) and byte order bo
// with a PT_LOAD and then a PT_INTERP of interp at offset 512, its
// program headers at phoff.
type synth struct {
	class     byte
	bo        binary.ByteOrder
	phoff     uint64
	phentsize uint16
	phnum     uint16
	interpOff uint64
	interpSz  uint64
	interp    string
}

func newSynth(class byte, bo binary.ByteOrder, interp string) synth {
	s := synth{class: class, bo: bo, phoff: 64, phnum: 2, interpOff: 512, interp: interp, interpSz: uint64(len(interp))}
	s.phentsize = 56
	if class == 1 {
		s.phoff, s.phentsize = 52, 32
	}
	return s
}

func (s synth) bytes() []byte {
	b := make([]byte, 1024)
	copy(b, "\x7fELF")
	b[4], b[6] = s.class, 1
	b[5] = 1
	if s.bo == binary.BigEndian {
		b[5] = 2
	}
	bo := s.bo
	bo.PutUint16(b[16:], 2)  // ET_EXEC
	bo.PutUint16(b[18:], 62) // EM_X86_64 (the value does not matter here)
	bo.PutUint32(b[20:], 1)
	ph := func(i int) []byte { return b[int(s.phoff)+i*int(s.phentsize):] }
	if s.class == 1 {
		bo.PutUint32(b[28:], uint32(s.phoff))
		bo.PutUint16(b[40:], 52)
		bo.PutUint16(b[42:], s.phentsize)
		bo.PutUint16(b[44:], s.phnum)
		if s.phoff < 512 && s.phnum == 2 {
			bo.PutUint32(ph(0), 1) // PT_LOAD
			bo.PutUint32(ph(1), 3) // PT_INTERP
			bo.PutUint32(ph(1)[4:], uint32(s.interpOff))
			bo.PutUint32(ph(1)[16:], uint32(s.interpSz))
			bo.PutUint32(ph(1)[20:], uint32(s.interpSz))
		}
	} else {
		bo.PutUint64(b[32:], s.phoff)
		bo.PutUint16(b[52:], 64)
		bo.PutUint16(b[54:], s.phentsize)
		bo.PutUint16(b[56:], s.phnum)
		if s.phoff < 512 && s.phnum == 2 {
			bo.PutUint32(ph(0), 1)
			bo.PutUint32(ph(1), 3)
			bo.PutUint64(ph(1)[8:], s.interpOff)
			bo.PutUint64(ph(1)[32:], s.interpSz)
			bo.PutUint64(ph(1)[40:], s.interpSz)
		}
	}
	copy(b[512:], s.interp)
	return b
}

// Both classes and both byte orders read as debug/elf reads them.
func TestELFInterpClasses(t *testing.T) {
	for _, class := range []byte{1, 2} {
		for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			b := newSynth(class, bo, "/lib/ld-test.so.1\x00").bytes()
			want, ok := stdInterp(t, bytes.NewReader(b))
			got, err := ELFInterp(bytes.NewReader(b))
			if !ok || err != nil || got != want || got != "/lib/ld-test.so.1" {
				t.Errorf("class %d %v: %q, %v; debug/elf %q, %v", class, bo, got, err, want, ok)
			}
		}
	}
}

// Hostile headers are errors, never a panic or a large allocation.
func TestELFInterpHostile(t *testing.T) {
	bo := binary.LittleEndian
	cases := map[string]func(*synth){
		"program headers past the end":     func(s *synth) { s.phoff = 1 << 40 },
		"program headers offset overflows": func(s *synth) { s.phoff = 1<<64 - 1 },
		"PN_XNUM":                          func(s *synth) { s.phnum = 0xffff },
		"phentsize not the kernel's":       func(s *synth) { s.phentsize = 64 },
		"PT_INTERP of 1 TiB":               func(s *synth) { s.interpSz = 1 << 40 },
		"PT_INTERP offset overflows":       func(s *synth) { s.interpOff = 1<<64 - 2 },
		"PT_INTERP past the end":           func(s *synth) { s.interpOff = 1020 },
		"PT_INTERP without NUL":            func(s *synth) { s.interp = "/lib/ld.so" },
		"PT_INTERP of 1 byte":              func(s *synth) { s.interp = "\x00" },
	}
	for name, mod := range cases {
		s := newSynth(2, bo, "/lib/ld.so\x00")
		mod(&s)
		if s.interp != "/lib/ld.so\x00" {
			s.interpSz = uint64(len(s.interp))
		}
		if got, err := ELFInterp(bytes.NewReader(s.bytes())); err == nil {
			t.Errorf("%s: %q, no error", name, got)
		}
	}
	// No program headers: a static file.
	s := newSynth(1, bo, "")
	s.phnum = 0
	if got, err := ELFInterp(bytes.NewReader(s.bytes())); err != nil || got != "" {
		t.Errorf("no program headers: %q, %v", got, err)
	}
}

// Whatever the bytes, ELFInterp does not panic, and when it finds an
// interpreter debug/elf finds the same.
func FuzzELFInterp(f *testing.F) {
	f.Add(newSynth(2, binary.LittleEndian, "/lib/ld.so\x00").bytes())
	f.Add(newSynth(1, binary.BigEndian, "/lib/ld.so\x00").bytes())
	f.Add([]byte("#!/bin/sh\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ELFInterp(bytes.NewReader(b))
		if err != nil || got == "" {
			return
		}
		if want, ok := stdInterp(t, bytes.NewReader(b)); ok && want != got {
			t.Fatalf("%q; debug/elf %q", got, want)
		}
	})
}

package execfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// ErrNotELF is returned by ELFInterp for a file without the ELF magic.
var ErrNotELF = errors.New("not an ELF file")

// The kernel's limits (fs/binfmt_elf.c): program headers take at most 64 KiB
// and a PT_INTERP is 2 to PATH_MAX bytes, NUL included.
const (
	maxPhdrBytes = 65536
	maxInterp    = 4096
)

// elfClass is where the fields ELFInterp reads lie in one ELF class.
type elfClass struct {
	ehsize                  int // bytes of the file header
	phoff, phentsize, phnum int // offsets in the file header
	phsize                  int // bytes of one program header
	pOffset, pFilesz        int // offsets in a program header
	word                    int // 4 or 8: the size of an offset
}

func (c elfClass) uint(bo binary.ByteOrder, b []byte) uint64 {
	if c.word == 4 {
		return uint64(bo.Uint32(b))
	}
	return bo.Uint64(b)
}

// ELFInterp is the PT_INTERP of the ELF program r (its dynamic loader), as
// the kernel reads it: the first PT_INTERP, up to its first NUL. It is ""
// for a program without one (a static program). Both classes (32- and
// 64-bit) and both byte orders are read. A file that is not ELF is
// ErrNotELF; malformed headers are an error, never a panic or a large
// allocation: at most 64 KiB of program headers and 4 KiB of interpreter are
// read, the limits execve itself applies.
func ELFInterp(r io.ReaderAt) (string, error) {
	var eh [64]byte
	n, err := r.ReadAt(eh[:], 0)
	if n < 16 {
		if err == nil || errors.Is(err, io.EOF) {
			return "", ErrNotELF
		}
		return "", fmt.Errorf("read ELF header: %w", err)
	}
	if !bytes.Equal(eh[:4], []byte("\x7fELF")) {
		return "", ErrNotELF
	}
	var c elfClass
	switch eh[4] { // EI_CLASS
	case 1:
		c = elfClass{ehsize: 52, phoff: 28, phentsize: 42, phnum: 44, phsize: 32, pOffset: 4, pFilesz: 16, word: 4}
	case 2:
		c = elfClass{ehsize: 64, phoff: 32, phentsize: 54, phnum: 56, phsize: 56, pOffset: 8, pFilesz: 32, word: 8}
	default:
		return "", fmt.Errorf("ELF class %d unknown", eh[4])
	}
	var bo binary.ByteOrder
	switch eh[5] { // EI_DATA
	case 1:
		bo = binary.LittleEndian
	case 2:
		bo = binary.BigEndian
	default:
		return "", fmt.Errorf("ELF byte order %d unknown", eh[5])
	}
	if n < c.ehsize {
		return "", fmt.Errorf("ELF header truncated at %d bytes", n)
	}
	phoff := c.uint(bo, eh[c.phoff:])
	phentsize := int(bo.Uint16(eh[c.phentsize:]))
	phnum := int(bo.Uint16(eh[c.phnum:]))
	if phnum == 0 {
		return "", nil
	}
	// The kernel wants exactly its own program header size, and no more
	// than 64 KiB of them (so no PN_XNUM either).
	if phentsize != c.phsize {
		return "", fmt.Errorf("ELF program header size %d, want %d", phentsize, c.phsize)
	}
	size := phnum * phentsize
	if size > maxPhdrBytes {
		return "", fmt.Errorf("ELF has %d program headers, over the kernel's %d bytes", phnum, maxPhdrBytes)
	}
	if phoff > math.MaxInt64-uint64(size) {
		return "", fmt.Errorf("ELF program headers at offset %d out of range", phoff)
	}
	ph := make([]byte, size)
	if err := readAt(r, ph, int64(phoff)); err != nil {
		return "", fmt.Errorf("read ELF program headers: %w", err)
	}
	for p := ph; len(p) >= c.phsize; p = p[c.phsize:] {
		if bo.Uint32(p) != 3 { // PT_INTERP
			continue
		}
		off := c.uint(bo, p[c.pOffset:])
		filesz := c.uint(bo, p[c.pFilesz:])
		if filesz < 2 || filesz > maxInterp {
			return "", fmt.Errorf("ELF PT_INTERP of %d bytes", filesz)
		}
		if off > math.MaxInt64-filesz {
			return "", fmt.Errorf("ELF PT_INTERP at offset %d out of range", off)
		}
		b := make([]byte, filesz)
		if err := readAt(r, b, int64(off)); err != nil {
			return "", fmt.Errorf("read ELF PT_INTERP: %w", err)
		}
		if b[len(b)-1] != 0 {
			return "", errors.New("ELF PT_INTERP is not NUL-terminated")
		}
		s, _, _ := bytes.Cut(b, []byte{0})
		return string(s), nil
	}
	return "", nil
}

// readAt fills b from off: a short read is an error, io.EOF with a full b is
// not (io.ReaderAt allows it).
func readAt(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

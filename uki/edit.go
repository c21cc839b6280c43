package uki

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/unit-os/unit/disk"
)

// Data returns the bytes of the section called name (its VirtualSize, as
// the stub reads it), a slice of b, or an error when there is no such
// section or it lies outside b. b is hostile input (a bundle from the
// network): every offset is checked.
func Data(b []byte, name string) ([]byte, error) {
	off, n, err := find(b, name)
	if err != nil {
		return nil, err
	}
	return b[off : off+n], nil
}

// headerBytes is how much of a file ReadSection reads to find the
// section table (the stub's headers are one page).
const headerBytes = 64 << 10

// ReadSection reads the section called name from an image of size bytes
// without reading the rest: a machine looks at the .osrel of two 20 MB
// images at every boot, and PID 1 should not hold them.
func ReadSection(r io.ReaderAt, size int64, name string, max int) ([]byte, error) {
	head := make([]byte, min(size, headerBytes))
	if _, err := r.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	off, n, err := locate(head, name)
	if err != nil {
		return nil, err
	}
	if int64(off)+int64(n) > size {
		return nil, fmt.Errorf("section %s past the end of the file", name)
	}
	if n > max {
		return nil, fmt.Errorf("section %s is %d bytes (at most %d taken)", name, n, max)
	}
	b := make([]byte, n)
	if _, err := r.ReadAt(b, int64(off)); err != nil {
		return nil, err
	}
	return b, nil
}

// find locates a section's data in the file.
func find(b []byte, name string) (off, n int, err error) {
	off, n, err = locate(b, name)
	if err == nil && off+n > len(b) {
		return 0, 0, fmt.Errorf("section %s past the end of the file", name)
	}
	return off, n, err
}

// locate reads a section's place from the headers in b.
func locate(b []byte, name string) (off, n int, err error) {
	h, err := parsePE(b)
	if err != nil {
		return 0, 0, err
	}
	le := binary.LittleEndian
	found := -1
	for i := 0; i < h.sections; i++ {
		s := b[h.table+i*sectionHeaderSize:]
		if string(bytes.TrimRight(s[:8], "\x00")) != name {
			continue
		}
		if found >= 0 {
			return 0, 0, fmt.Errorf("two %s sections", name)
		}
		found = i
		vsize, rawSize, raw := int64(le.Uint32(s[8:])), int64(le.Uint32(s[16:])), int64(le.Uint32(s[20:]))
		off, n = int(raw), int(min(vsize, rawSize))
	}
	if found < 0 {
		return 0, 0, fmt.Errorf("no %s section", name)
	}
	return off, n, nil
}

// SetRoot returns a copy of the image b whose command line names the root
// partition partuuid instead of the one it named: the value of
// unit.root=PARTUUID= has a fixed length, so the section keeps its size
// and only the PE checksum changes. The command line must have exactly
// one unit.root parameter, of that form.
func SetRoot(b []byte, partuuid string) ([]byte, error) {
	if !IsUUID(partuuid) {
		return nil, fmt.Errorf("PARTUUID %q: want 8-4-4-4-12 hex digits", partuuid)
	}
	off, n, err := find(b, ".cmdline")
	if err != nil {
		return nil, err
	}
	cmd := b[off : off+n]
	key := disk.RootParam + "="
	at, found := -1, 0
	for i := 0; i < len(cmd); {
		for i < len(cmd) && isSpace(cmd[i]) {
			i++
		}
		j := i
		for j < len(cmd) && !isSpace(cmd[j]) {
			j++
		}
		if field := string(cmd[i:j]); strings.HasPrefix(field, key) {
			found++
			uuid, ok := strings.CutPrefix(field, key+"PARTUUID=")
			if !ok || !IsUUID(uuid) {
				return nil, fmt.Errorf("command line %q: %s: want %sPARTUUID=<uuid>", cmd, field, key)
			}
			at = j - len(uuid)
		}
		i = j
	}
	if found != 1 {
		return nil, fmt.Errorf("command line %q: want one %sPARTUUID=<uuid>, found %d %s parameters", cmd, key, found, disk.RootParam)
	}
	out := append([]byte(nil), b...)
	copy(out[off+at:], partuuid)
	h, _ := parsePE(out)
	le := binary.LittleEndian
	le.PutUint32(out[h.opt+optCheckSum:], 0)
	le.PutUint32(out[h.opt+optCheckSum:], peChecksum(out, h.opt+optCheckSum))
	return out, nil
}

// isSpace is what separates kernel command line parameters.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == 0 }

// IsUUID checks the 8-4-4-4-12 hex form of a GUID.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

// Package uki builds and edits unified kernel images: systemd's EFI stub
// with the kernel, initramfs, command line and os-release appended as PE
// sections. The image builder makes them; a machine edits the command
// line of one it installs into an update slot.
package uki

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// StubPath is systemd's EFI stub from Debian's systemd-boot-efi: a small
// EFI program that finds the kernel, initramfs and command line in PE
// sections of its own image and boots them.
const StubPath = "/usr/lib/systemd/boot/efi/linuxx64.efi.stub"

// Section is one named blob added to the stub.
type Section struct {
	Name string // at most 8 bytes, e.g. ".linux"
	Data []byte
}

// SectionAlign is where each added section starts in memory. The stub
// only needs them after its own sections and aligned to its
// SectionAlignment; a page keeps the kernel's setup header page-aligned,
// as ukify and objcopy recipes do.
const SectionAlign = 4096

// Offsets inside the PE32+ optional header and section header.
const (
	optSizeOfInitData = 8
	optSectionAlign   = 32
	optFileAlign      = 36
	optSizeOfImage    = 56
	optSizeOfHeaders  = 60
	optCheckSum       = 64
	sectionHeaderSize = 40
	peCharData        = 0x40000040 // IMAGE_SCN_CNT_INITIALIZED_DATA | IMAGE_SCN_MEM_READ
)

// Build returns a unified kernel image: the stub with the sections
// appended (headers in the free space of its header area, data at the end
// of the file). This is what `objcopy --add-section --change-section-vma`
// does, written out so that the bytes depend only on the inputs.
func Build(stub []byte, sections []Section) ([]byte, error) {
	hdr, err := parsePE(stub)
	if err != nil {
		return nil, fmt.Errorf("stub: %w", err)
	}
	le := binary.LittleEndian
	coff, opt, table, n := hdr.coff, hdr.opt, hdr.table, hdr.sections
	sectAlign := le.Uint32(stub[opt+optSectionAlign:])
	fileAlign := le.Uint32(stub[opt+optFileAlign:])
	if sectAlign == 0 || fileAlign == 0 {
		return nil, errors.New("stub: zero section or file alignment")
	}
	headersEnd := int(le.Uint32(stub[opt+optSizeOfHeaders:]))
	firstRaw := headersEnd
	var memEnd uint32
	for i := 0; i < n; i++ {
		h := stub[table+i*sectionHeaderSize:]
		vsize, va, raw := le.Uint32(h[8:]), le.Uint32(h[12:]), le.Uint32(h[20:])
		if raw != 0 && int(raw) < firstRaw {
			firstRaw = int(raw)
		}
		if e := va + vsize; e > memEnd {
			memEnd = e
		}
	}
	free := table + n*sectionHeaderSize
	if need := free + len(sections)*sectionHeaderSize; need > firstRaw {
		return nil, fmt.Errorf("no room for %d section headers in the stub's headers (%d bytes, need %d)", len(sections), firstRaw, need)
	}
	for _, b := range stub[free : free+len(sections)*sectionHeaderSize] {
		if b != 0 {
			return nil, errors.New("the stub's header area after its section table is not empty")
		}
	}

	out := bytes.NewBuffer(make([]byte, 0, len(stub)+totalSize(sections)+len(sections)*int(SectionAlign)))
	out.Write(stub)
	va := alignUp32(memEnd, SectionAlign)
	var initData uint32
	for i, s := range sections {
		if len(s.Name) > 8 {
			return nil, fmt.Errorf("section name %q longer than 8 bytes", s.Name)
		}
		pad(out, int(fileAlign))
		raw := uint32(out.Len())
		out.Write(s.Data)
		rawSize := alignUp32(uint32(len(s.Data)), fileAlign)
		pad(out, int(fileAlign))

		var h [sectionHeaderSize]byte
		copy(h[0:8], s.Name)
		le.PutUint32(h[8:], uint32(len(s.Data))) // VirtualSize
		le.PutUint32(h[12:], va)                 // VirtualAddress
		le.PutUint32(h[16:], rawSize)            // SizeOfRawData
		le.PutUint32(h[20:], raw)                // PointerToRawData
		le.PutUint32(h[36:], peCharData)
		copy(out.Bytes()[free+i*sectionHeaderSize:], h[:])
		initData += rawSize
		va = alignUp32(va+uint32(len(s.Data)), SectionAlign)
	}
	b := out.Bytes()
	le.PutUint16(b[coff+2:], uint16(n+len(sections)))
	le.PutUint32(b[opt+optSizeOfInitData:], le.Uint32(b[opt+optSizeOfInitData:])+initData)
	le.PutUint32(b[opt+optSizeOfImage:], alignUp32(va, sectAlign))
	le.PutUint32(b[opt+optCheckSum:], 0)
	le.PutUint32(b[opt+optCheckSum:], peChecksum(b, opt+optCheckSum))
	return b, nil
}

func totalSize(ss []Section) int {
	n := 0
	for _, s := range ss {
		n += len(s.Data)
	}
	return n
}

func alignUp32(v, a uint32) uint32 { return (v + a - 1) / a * a }

// pad fills buf with zeros up to a multiple of align.
func pad(buf *bytes.Buffer, align int) {
	if r := buf.Len() % align; r != 0 {
		buf.Write(make([]byte, align-r))
	}
}

// peChecksum is the PE image checksum (16-bit one's-complement-style sum
// over the file, skipping the checksum field, plus the file length), so
// tools that check it are not surprised.
func peChecksum(b []byte, skip int) uint32 {
	var sum uint64
	for i := 0; i+1 < len(b); i += 2 {
		if i == skip || i == skip+2 {
			continue
		}
		sum += uint64(binary.LittleEndian.Uint16(b[i:]))
		sum = (sum & 0xffff) + (sum >> 16)
	}
	if len(b)%2 == 1 {
		sum += uint64(b[len(b)-1])
		sum = (sum & 0xffff) + (sum >> 16)
	}
	sum = (sum & 0xffff) + (sum >> 16)
	return uint32(sum) + uint32(len(b))
}

// peHeaders locates the parts of a PE32+ image the UKI writer edits.
type peHeaders struct {
	coff, opt, table, sections int // offsets of the COFF header, optional header, section table; section count
}

// parsePE checks that b is a PE32+ image with sections and whose headers
// lie inside it. debug/pe would do, but it pulls DWARF and zlib into the
// binary that is also every image's /init.
func parsePE(b []byte) (peHeaders, error) {
	le := binary.LittleEndian
	if len(b) < 0x40 || string(b[:2]) != "MZ" {
		return peHeaders{}, errors.New("not a PE image (no MZ header)")
	}
	lfanew := int(le.Uint32(b[0x3c:]))
	coff := lfanew + 4
	opt := coff + 20
	if lfanew < 0 || opt+optCheckSum+4 > len(b) || string(b[lfanew:coff]) != "PE\x00\x00" {
		return peHeaders{}, errors.New("not a PE image (no PE signature)")
	}
	if le.Uint16(b[opt:]) != 0x20b {
		return peHeaders{}, errors.New("not a PE32+ image")
	}
	n := int(le.Uint16(b[coff+2:]))
	table := opt + int(le.Uint16(b[coff+16:]))
	if n == 0 {
		return peHeaders{}, errors.New("no sections")
	}
	if table+n*sectionHeaderSize > len(b) {
		return peHeaders{}, errors.New("section table past the end of the file")
	}
	return peHeaders{coff: coff, opt: opt, table: table, sections: n}, nil
}

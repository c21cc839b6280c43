// Package disk is the disk format's bytes and the machine's disks: the
// GPT a build writes and a boot reads, the partition types and names of
// unit's layout, the block devices the kernel offers and how to find one
// by PARTUUID, and the kernel modules each format needs. It imports
// nothing of unit: image (which writes disks), pid1 (which boots from
// them) and update (which writes slots) all speak through it.
package disk

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"unicode/utf16"
)

// SectorSize is the logical sector of the disks unit writes.
const SectorSize = 512

const (
	gptEntries   = 128
	gptEntrySize = 128
	// gptTableSectors is what 128 entries of 128 bytes take.
	gptTableSectors = gptEntries * gptEntrySize / SectorSize
)

// Partition type GUIDs: the ESP (UEFI spec), Linux's "filesystem data",
// and the root partition for x86-64 of the Discoverable Partitions
// Specification (sgdisk's 8304), which tools that look for a root know.
// Lower case, as Scan returns them.
const (
	TypeESP        = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
	TypeLinuxData  = "0fc63daf-8483-4772-8e79-3d69d8477de4"
	TypeRootX86_64 = "4f68bce3-e8cd-4db1-96e7-fbcaf984b709"
)

// Partition is one partition: LBAs inclusive, as in the table.
type Partition struct {
	Name        string
	Type, GUID  [16]byte
	First, Last uint64
}

// ParseGUID parses "XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX" into GPT's on-disk
// order (the first three fields little-endian).
func ParseGUID(s string) ([16]byte, error) {
	var g [16]byte
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 {
		return g, fmt.Errorf("bad GUID %q", s)
	}
	copy(g[:], b)
	g[0], g[1], g[2], g[3] = b[3], b[2], b[1], b[0]
	g[4], g[5] = b[5], b[4]
	g[6], g[7] = b[7], b[6]
	return g, nil
}

// MustGUID is ParseGUID for the constants above and ids made by unit.
func MustGUID(s string) [16]byte {
	g, err := ParseGUID(s)
	if err != nil {
		panic(err)
	}
	return g
}

// Write writes a protective MBR and the primary and backup GPT for a
// disk of sectors sectors. Only the table sectors are written.
func Write(w io.WriterAt, sectors uint64, disk [16]byte, parts []Partition) error {
	if len(parts) > gptEntries {
		return errors.New("gpt: too many partitions")
	}
	last := sectors - 1
	firstUsable := uint64(2 + gptTableSectors)
	lastUsable := last - 1 - gptTableSectors
	table := make([]byte, gptTableSectors*SectorSize)
	for i, p := range parts {
		if p.First < firstUsable || p.Last > lastUsable || p.First > p.Last {
			return fmt.Errorf("gpt: partition %d (%s) LBAs %d-%d outside %d-%d", i+1, p.Name, p.First, p.Last, firstUsable, lastUsable)
		}
		e := table[i*gptEntrySize:]
		copy(e[0:16], p.Type[:])
		copy(e[16:32], p.GUID[:])
		binary.LittleEndian.PutUint64(e[32:], p.First)
		binary.LittleEndian.PutUint64(e[40:], p.Last)
		for j, c := range utf16.Encode([]rune(p.Name)) {
			if j >= 36 {
				break
			}
			binary.LittleEndian.PutUint16(e[56+2*j:], c)
		}
	}
	tableCRC := crc32.ChecksumIEEE(table)

	header := func(my, alt, entries uint64) []byte {
		h := make([]byte, SectorSize)
		copy(h, "EFI PART")
		binary.LittleEndian.PutUint32(h[8:], 0x00010000)
		binary.LittleEndian.PutUint32(h[12:], 92)
		binary.LittleEndian.PutUint64(h[24:], my)
		binary.LittleEndian.PutUint64(h[32:], alt)
		binary.LittleEndian.PutUint64(h[40:], firstUsable)
		binary.LittleEndian.PutUint64(h[48:], lastUsable)
		copy(h[56:72], disk[:])
		binary.LittleEndian.PutUint64(h[72:], entries)
		binary.LittleEndian.PutUint32(h[80:], gptEntries)
		binary.LittleEndian.PutUint32(h[84:], gptEntrySize)
		binary.LittleEndian.PutUint32(h[88:], tableCRC)
		binary.LittleEndian.PutUint32(h[16:], crc32.ChecksumIEEE(h[:92]))
		return h
	}

	mbr := make([]byte, SectorSize)
	pe := mbr[446:]
	pe[1], pe[2], pe[3] = 0x00, 0x02, 0x00 // CHS of LBA 1
	pe[4] = 0xEE                           // GPT protective
	pe[5], pe[6], pe[7] = 0xFF, 0xFF, 0xFF
	binary.LittleEndian.PutUint32(pe[8:], 1)
	size := last
	if size > 0xFFFFFFFF {
		size = 0xFFFFFFFF
	}
	binary.LittleEndian.PutUint32(pe[12:], uint32(size))
	mbr[510], mbr[511] = 0x55, 0xAA

	writes := []struct {
		lba  uint64
		data []byte
	}{
		{0, mbr},
		{1, header(1, last, 2)},
		{2, table},
		{last - gptTableSectors, table},
		{last, header(last, 1, last-gptTableSectors)},
	}
	for _, wr := range writes {
		if _, err := w.WriteAt(wr.data, int64(wr.lba)*SectorSize); err != nil {
			return fmt.Errorf("gpt: %w", err)
		}
	}
	return nil
}

// ReadTable returns the partitions of the primary table of r, for a
// re-image to check that the layout it would write is the one on disk
// (a file the builder wrote; Scan reads what a machine finds).
func ReadTable(r io.ReaderAt) ([]Partition, error) {
	h := make([]byte, SectorSize)
	if _, err := r.ReadAt(h, SectorSize); err != nil {
		return nil, fmt.Errorf("gpt: %w", err)
	}
	if string(h[:8]) != "EFI PART" {
		return nil, errors.New("gpt: no GPT header at LBA 1")
	}
	crc := binary.LittleEndian.Uint32(h[16:])
	binary.LittleEndian.PutUint32(h[16:], 0)
	if crc32.ChecksumIEEE(h[:92]) != crc {
		return nil, errors.New("gpt: header checksum mismatch")
	}
	n := binary.LittleEndian.Uint32(h[80:])
	es := binary.LittleEndian.Uint32(h[84:])
	if es != gptEntrySize || n > gptEntries {
		return nil, fmt.Errorf("gpt: unexpected table shape (%d entries of %d bytes)", n, es)
	}
	table := make([]byte, n*es)
	if _, err := r.ReadAt(table, int64(binary.LittleEndian.Uint64(h[72:]))*SectorSize); err != nil {
		return nil, fmt.Errorf("gpt: %w", err)
	}
	var parts []Partition
	for i := 0; i < int(n); i++ {
		e := table[i*gptEntrySize:]
		var p Partition
		copy(p.Type[:], e[0:16])
		if p.Type == ([16]byte{}) {
			continue
		}
		copy(p.GUID[:], e[16:32])
		p.First = binary.LittleEndian.Uint64(e[32:])
		p.Last = binary.LittleEndian.Uint64(e[40:])
		var name []uint16
		for j := 0; j < 36; j++ {
			c := binary.LittleEndian.Uint16(e[56+2*j:])
			if c == 0 {
				break
			}
			name = append(name, c)
		}
		p.Name = string(utf16.Decode(name))
		parts = append(parts, p)
	}
	return parts, nil
}

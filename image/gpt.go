package image

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"unicode/utf16"
)

const (
	sectorSize   = 512
	gptEntries   = 128
	gptEntrySize = 128
	// gptTableSectors is what 128 entries of 128 bytes take.
	gptTableSectors = gptEntries * gptEntrySize / sectorSize
	mib             = 1 << 20
)

// Partition type GUIDs: the ESP (UEFI spec), Linux's "filesystem data",
// and the root partition for x86-64 of the Discoverable Partitions
// Specification (sgdisk's 8304), which tools that look for a root know.
const (
	typeESP        = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
	typeLinuxData  = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
	typeRootX86_64 = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"
)

// gptPart is one partition: LBAs inclusive, as in the table.
type gptPart struct {
	Name        string
	Type, GUID  [16]byte
	First, Last uint64
}

// guid parses "XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX" into GPT's on-disk
// order (the first three fields little-endian).
func guid(s string) ([16]byte, error) {
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

func mustGUID(s string) [16]byte {
	g, err := guid(s)
	if err != nil {
		panic(err)
	}
	return g
}

// stableUUID derives a version-4-shaped UUID from seed, so that disk,
// partition and filesystem ids are fixed for a given system and never
// random: two builds of the same system give the same bytes.
func stableUUID(seed string) string {
	h := sha256.Sum256([]byte("unit image " + seed))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// writeGPT writes a protective MBR and the primary and backup GPT for a
// disk of sectors sectors. Only the table sectors are written.
func writeGPT(w io.WriterAt, sectors uint64, disk [16]byte, parts []gptPart) error {
	if len(parts) > gptEntries {
		return errors.New("gpt: too many partitions")
	}
	last := sectors - 1
	firstUsable := uint64(2 + gptTableSectors)
	lastUsable := last - 1 - gptTableSectors
	table := make([]byte, gptTableSectors*sectorSize)
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
		h := make([]byte, sectorSize)
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

	mbr := make([]byte, sectorSize)
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
		if _, err := w.WriteAt(wr.data, int64(wr.lba)*sectorSize); err != nil {
			return fmt.Errorf("gpt: %w", err)
		}
	}
	return nil
}

// readGPT returns the partitions of the primary table of r, for a
// re-image to check that the layout it would write is the one on disk.
func readGPT(r io.ReaderAt) ([]gptPart, error) {
	h := make([]byte, sectorSize)
	if _, err := r.ReadAt(h, sectorSize); err != nil {
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
	if _, err := r.ReadAt(table, int64(binary.LittleEndian.Uint64(h[72:]))*sectorSize); err != nil {
		return nil, fmt.Errorf("gpt: %w", err)
	}
	var parts []gptPart
	for i := 0; i < int(n); i++ {
		e := table[i*gptEntrySize:]
		var p gptPart
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

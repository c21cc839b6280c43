package disk

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// GPT limits: what a sane table has. A disk is hostile input (anything
// plugged in is read at boot), so a header that asks for more is refused
// rather than read.
const (
	gptMaxEntries   = 1024
	gptMaxEntrySize = 1024
	gptMinEntrySize = 128
)

// Entry is one used entry of a partition table, as Scan reads it.
type Entry struct {
	GUID string // unique partition GUID (PARTUUID), lower case
	Type string // partition type GUID, lower case
	Name string
}

// Scan reads the primary GPT of a disk whose logical sectors
// are sectorSize bytes and returns each used entry (its unique partition
// GUID, the PARTUUID, its type and name) by partition number (1-based,
// as the kernel numbers partitions). Both the header and the entry array
// must match their CRC32s. It is the reader for any disk a machine has
// (hostile input, hence the limits); ReadTable is the builder's, for
// disks it wrote.
func Scan(r io.ReaderAt, sectorSize int64) (map[int]Entry, error) {
	if sectorSize < 512 || sectorSize > 64<<10 || sectorSize&(sectorSize-1) != 0 {
		return nil, fmt.Errorf("gpt: sector size %d", sectorSize)
	}
	h := make([]byte, sectorSize)
	if _, err := r.ReadAt(h, sectorSize); err != nil {
		return nil, fmt.Errorf("gpt: read header: %w", err)
	}
	if string(h[:8]) != "EFI PART" {
		return nil, errors.New("no GPT")
	}
	le := binary.LittleEndian
	hsize := le.Uint32(h[12:])
	if hsize < 92 || int64(hsize) > sectorSize {
		return nil, fmt.Errorf("gpt: header size %d", hsize)
	}
	crc := le.Uint32(h[16:])
	le.PutUint32(h[16:], 0)
	if crc32.ChecksumIEEE(h[:hsize]) != crc {
		return nil, errors.New("gpt: header checksum mismatch")
	}
	n, es := le.Uint32(h[80:]), le.Uint32(h[84:])
	if n > gptMaxEntries || es < gptMinEntrySize || es > gptMaxEntrySize || es%gptMinEntrySize != 0 {
		return nil, fmt.Errorf("gpt: refusing a table of %d entries of %d bytes", n, es)
	}
	lba := le.Uint64(h[72:])
	if lba < 2 || lba > 1<<40 {
		return nil, fmt.Errorf("gpt: entries at LBA %d", lba)
	}
	table := make([]byte, int(n)*int(es))
	if _, err := r.ReadAt(table, int64(lba)*sectorSize); err != nil {
		return nil, fmt.Errorf("gpt: read entries: %w", err)
	}
	if crc32.ChecksumIEEE(table) != le.Uint32(h[88:]) {
		return nil, errors.New("gpt: entry array checksum mismatch")
	}
	out := map[int]Entry{}
	var zero [16]byte
	for i := 0; i < int(n); i++ {
		e := table[i*int(es):]
		if [16]byte(e[0:16]) == zero {
			continue // unused entry
		}
		out[i+1] = Entry{GUID: guidText(e[16:32]), Type: guidText(e[0:16]), Name: utf16Name(e[56:128])}
	}
	return out, nil
}

// guidText formats an on-disk GUID (first three fields little-endian) as
// text, lower case.
func guidText(b []byte) string {
	o := []byte{b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6]}
	o = append(o, b[8:16]...)
	x := hex.EncodeToString(o)
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// utf16Name decodes a GPT partition name (UTF-16LE, NUL-padded); what is
// not printable ASCII becomes '?' (only unit's own names are compared).
func utf16Name(b []byte) string {
	var out []byte
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		out = append(out, byte(c))
	}
	return string(out)
}

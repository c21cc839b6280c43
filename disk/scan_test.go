package disk_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"strings"
	"testing"

	"github.com/unit-os/unit/disk"
	"github.com/unit-os/unit/disk/disktest"
)

func TestGPTPartitionGUIDs(t *testing.T) {
	p := disktest.Image(t, t.TempDir(), "d.img", disktest.ESPGUID, strings.ToUpper(disktest.RootGUID))
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := disk.Scan(f, 512)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].GUID != disktest.ESPGUID || got[3].GUID != disktest.RootGUID {
		t.Fatalf("partitions %v, want 1=%s 3=%s", got, disktest.ESPGUID, disktest.RootGUID)
	}
}

// TestGPTRefusals: a disk is hostile input. Anything that is not a
// consistent, sane GPT is refused, with no huge allocation.
func TestGPTRefusals(t *testing.T) {
	p := disktest.Image(t, t.TempDir(), "d.img", disktest.ESPGUID, disktest.RootGUID)
	good, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	// edit changes a copy of the disk; rehash recomputes the header CRC
	// so that only the edited field is wrong.
	edit := func(f func(b []byte), rehash bool) []byte {
		b := append([]byte(nil), good...)
		f(b)
		if rehash {
			h := b[512:1024]
			le.PutUint32(h[16:], 0)
			le.PutUint32(h[16:], crc32.ChecksumIEEE(h[:le.Uint32(h[12:])]))
		}
		return b
	}
	for name, c := range map[string]struct {
		disk []byte
		want string
	}{
		"no GPT":           {make([]byte, 1<<20), "no GPT"},
		"header checksum":  {edit(func(b []byte) { b[512+40]++ }, false), "header checksum"},
		"entry checksum":   {edit(func(b []byte) { b[1024+16]++ }, false), "entry array checksum"},
		"many entries":     {edit(func(b []byte) { le.PutUint32(b[512+80:], 1<<24) }, true), "refusing a table"},
		"huge entries":     {edit(func(b []byte) { le.PutUint32(b[512+84:], 1<<20) }, true), "refusing a table"},
		"odd entries":      {edit(func(b []byte) { le.PutUint32(b[512+84:], 200) }, true), "refusing a table"},
		"header size":      {edit(func(b []byte) { le.PutUint32(b[512+12:], 4096) }, false), "header size"},
		"entries at LBA 0": {edit(func(b []byte) { le.PutUint64(b[512+72:], 0) }, true), "entries at LBA"},
		"truncated":        {good[:1500], "read entries"},
	} {
		if _, err := disk.Scan(bytes.NewReader(c.disk), 512); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
	if _, err := disk.Scan(bytes.NewReader(good), 1000); err == nil {
		t.Error("a sector size of 1000 was accepted")
	}
}

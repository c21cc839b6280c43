package pid1

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sgdiskImage makes a 20 MiB disk image with sgdisk (an independent
// writer of GPTs): partition 1 and partition 3 with the given GUIDs.
func sgdiskImage(t *testing.T, dir, name, guid1, guid3 string) string {
	t.Helper()
	if _, err := exec.LookPath("sgdisk"); err != nil {
		t.Skip("sgdisk not installed (gdisk)")
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, 20<<20); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("sgdisk", "-n", "1:2048:+4M", "-t", "1:ef00", "-u", "1:"+guid1,
		"-n", "3:0:+4M", "-t", "3:8304", "-u", "3:"+guid3, p).CombinedOutput()
	if err != nil {
		t.Fatalf("sgdisk: %v\n%s", err, out)
	}
	return p
}

const (
	testESPGUID  = "11111111-2222-4333-8444-555555555555"
	testRootGUID = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ef"
)

func TestGPTPartitionGUIDs(t *testing.T) {
	p := sgdiskImage(t, t.TempDir(), "d.img", testESPGUID, strings.ToUpper(testRootGUID))
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := gptPartitions(f, 512)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].GUID != testESPGUID || got[3].GUID != testRootGUID {
		t.Fatalf("partitions %v, want 1=%s 3=%s", got, testESPGUID, testRootGUID)
	}
}

// TestGPTRefusals: a disk is hostile input. Anything that is not a
// consistent, sane GPT is refused, with no huge allocation.
func TestGPTRefusals(t *testing.T) {
	p := sgdiskImage(t, t.TempDir(), "d.img", testESPGUID, testRootGUID)
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
		if _, err := gptPartitions(bytes.NewReader(c.disk), 512); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
	if _, err := gptPartitions(bytes.NewReader(good), 1000); err == nil {
		t.Error("a sector size of 1000 was accepted")
	}
}

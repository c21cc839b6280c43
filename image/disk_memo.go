package image

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/uki"
)

// diskFormat is the version of how the disk formats' files are made
// (disk_build.go, disk.go, uki/): a change there must change it.
const diskFormat = 1

// diskMemo is what a disk or update build wrote into DIR, recorded in the
// cache by DIR's path: the key it was made from, its manifest's disk
// section and the files with their hashes. A warm build whose key is the
// same and whose files are still those bytes (by their stamps: a disk a
// guest booted since is not) writes nothing.
type diskMemo struct {
	Key   string    `json:"key"`
	Disk  *DiskInfo `json:"disk"`
	Files []File    `json:"files"`
}

// diskKey is the hash of everything the disk formats' files are made of:
// the kernel, initramfs and root by their hashes, the UKI's other sections,
// systemd-boot's stub and loader, the disk's layout keys, the time stamp
// and the versions of the tools that make the ESP and data partition.
func diskKey(s sums, format string, sys config.System, res *Result, kernel, initrd, root part, tools []string, mtime int64) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "unit disk %d\n%s\n%q %q %q %q\n%s %d\n%s %d\n%s %d\n%d %d\n%q\n", diskFormat, format,
		sys.Hostname, res.Release, res.KernelVersion, res.Cmdline,
		kernel.SHA256, kernel.Size, initrd.SHA256, initrd.Size, root.SHA256, root.Size,
		sys.SlotSize, mtime, tools)
	if sys.Data != nil {
		fmt.Fprintf(h, "data %d %q %q\n", sys.Data.Size, sys.Data.FSLabel(), sys.Data.MountPoint())
	}
	for _, p := range []string{uki.StubPath, LoaderPath} {
		sum, _, err := s.of(p)
		if err != nil {
			return "", err // the build proper says what is missing
		}
		fmt.Fprintf(h, "%s %s\n", p, sum)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (s sums) diskRecord(out string) string {
	abs, _ := filepath.Abs(out)
	h := sha256.Sum256([]byte(abs))
	return filepath.Join(s.dir, "disk-"+hex.EncodeToString(h[:16])+".json")
}

// disk returns what the last disk build into out recorded, if it was made
// from key and its files are unchanged since.
func (s sums) disk(out, key string) (*diskMemo, bool) {
	data, err := os.ReadFile(s.diskRecord(out))
	if err != nil {
		return nil, false
	}
	var m diskMemo
	if json.Unmarshal(data, &m) != nil || m.Key != key || m.Disk == nil || len(m.Files) == 0 {
		return nil, false
	}
	for _, f := range m.Files {
		if !s.same(filepath.Join(out, f.Name), f.SHA256, f.Size) {
			return nil, false
		}
	}
	return &m, true
}

// noteDisk records a disk build's key, disk section and files (their
// hashes are noted by stamp too). A record that cannot be written only
// costs a rebuild.
func (s sums) noteDisk(out, key string, info *DiskInfo, files []File) {
	for _, f := range files {
		s.noteFile(filepath.Join(out, f.Name), f.SHA256)
	}
	data, err := json.Marshal(diskMemo{Key: key, Disk: info, Files: files})
	if err != nil || os.MkdirAll(s.dir, 0o755) != nil {
		return
	}
	_ = writeAtomic(s.diskRecord(out), data, 0o644)
}

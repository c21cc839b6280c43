package image

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
)

// newc mode bits (from stat.h); fs.FileMode uses its own encoding.
const (
	cpioDir     = 0o040000
	cpioFile    = 0o100000
	cpioSymlink = 0o120000
	cpioChar    = 0o020000
)

func cpioMode(m fs.FileMode) (uint32, error) {
	perm := uint32(m.Perm())
	if m&fs.ModeSticky != 0 {
		perm |= 0o1000
	}
	switch {
	case m.IsDir():
		return cpioDir | perm, nil
	case m&fs.ModeSymlink != 0:
		return cpioSymlink | perm, nil
	case m&fs.ModeCharDevice != 0:
		return cpioChar | perm, nil
	case m.IsRegular():
		return cpioFile | perm, nil
	}
	return 0, fmt.Errorf("unsupported file type %v", m)
}

// writeCPIO writes entries as a newc archive. The output depends only on the
// set of entries, not their order: they are sorted by path, missing parent
// directories are added (0755), inode numbers are sequential, every mtime is
// mtime and every owner is root. A path given twice is an error.
func writeCPIO(w io.Writer, entries []entry, mtime int64) error {
	t, err := newTree(entries)
	if err != nil {
		return fmt.Errorf("cpio: %w", err)
	}
	bw := bufio.NewWriter(w)
	for i, e := range t.Entries {
		name := e.Name
		mode, err := cpioMode(e.Mode)
		if err != nil {
			return fmt.Errorf("cpio: %s: %w", name, err)
		}
		nlink := uint32(1)
		if e.Mode.IsDir() {
			nlink = 2 + t.Subdirs[name] // "." and ".." plus each subdirectory's ".."
		}
		h := cpioHeader{ino: uint32(i + 1), mode: mode, nlink: nlink, mtime: uint32(mtime),
			size: uint32(e.size()), rmajor: e.Major, rminor: e.Minor}
		if err := h.write(bw, name, e); err != nil {
			return err
		}
	}
	if err := (cpioHeader{nlink: 1}).write(bw, "TRAILER!!!", entry{}); err != nil {
		return err
	}
	return bw.Flush()
}

type cpioHeader struct {
	ino, mode, nlink, mtime, size, rmajor, rminor uint32
}

var zeros [4]byte

// write emits the header, the NUL-terminated name and e's data, each padded
// to a multiple of four bytes as newc requires. uid, gid, the archive's own
// device numbers and the checksum stay 0.
func (h cpioHeader) write(w io.Writer, name string, e entry) error {
	size := e.size()
	if uint64(size) > 0xffffffff {
		return fmt.Errorf("cpio: %s: too large for newc", name)
	}
	hdr := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		h.ino, h.mode, 0, 0, h.nlink, h.mtime, h.size, 0, 0, h.rmajor, h.rminor, len(name)+1, 0)
	if _, err := io.WriteString(w, hdr+name+"\x00"); err != nil {
		return err
	}
	if _, err := w.Write(zeros[:pad4(len(hdr)+len(name)+1)]); err != nil {
		return err
	}
	if err := e.copyTo(w); err != nil {
		return err
	}
	_, err := w.Write(zeros[:pad4(int(size))])
	return err
}

func pad4(n int) int { return (4 - n%4) % 4 }

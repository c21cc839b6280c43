package image

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// entry is one member of the image (an initramfs archive, the root file
// system). A package's file is not read when it is listed: Host names it
// and Stamp identifies its contents, so a part whose inputs are unchanged
// is found in the cache without reading them (memo.go); its bytes are
// streamed from Host when the part is packed.
type entry struct {
	Name         string      // path in the archive; a leading "/" is optional
	Mode         fs.FileMode // type bits (dir, symlink, char device) and permissions
	Data         []byte      // file contents, or a symlink's target
	Major, Minor uint32      // device numbers, for device nodes only
	// Host is a regular file's contents on the host when Data is nil;
	// Size is its size and Stamp what identifies its contents (hostStamp).
	Host  string
	Size  int64
	Stamp string
}

// hostEntry is the regular file host as entry name, not read: what the
// walk saw is its size and stamp.
func hostEntry(name, host string, info fs.FileInfo) entry {
	return entry{Name: name, Mode: info.Mode().Perm(), Host: host, Size: info.Size(), Stamp: hostStamp(host, info)}
}

// hostStamp identifies a file's contents without reading them, as make
// and git's index do: its path, size, modification time and inode. A
// store's files never change in place (a keg is immutable by its hash),
// so the same stamp is the same bytes; the link count is left out (a
// store may hard-link the same file into many kegs).
func hostStamp(host string, info fs.FileInfo) string {
	s := fmt.Sprintf("%s\x00%d\x00%d", host, info.Size(), info.ModTime().UnixNano())
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		s += fmt.Sprintf("\x00%d:%d", st.Dev, st.Ino)
	}
	return s
}

// size is the length of the entry's data.
func (e entry) size() int64 {
	if e.Data == nil && e.Host != "" {
		return e.Size
	}
	return int64(len(e.Data))
}

// open reads a host entry's file, refusing anything but the regular file
// of the size the listing saw: O_NOFOLLOW and the checks keep a symlink
// or device swapped in since from making the image read a host file.
func (e entry) open() (*os.File, error) {
	f, err := os.OpenFile(e.Host, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", e.Name, err)
	}
	fi, err := f.Stat()
	switch {
	case err != nil:
		f.Close()
		return nil, fmt.Errorf("read %s: %w", e.Name, err)
	case !fi.Mode().IsRegular():
		f.Close()
		return nil, fmt.Errorf("read %s: not a regular file (%v)", e.Name, fi.Mode().Type())
	case fi.Size() != e.Size:
		f.Close()
		return nil, fmt.Errorf("read %s: %s changed during the build (%d bytes, was %d)", e.Name, e.Host, fi.Size(), e.Size)
	}
	return f, nil
}

// content is the entry's data, read from Host if need be.
func (e entry) content() ([]byte, error) {
	if e.Data != nil || e.Host == "" {
		return e.Data, nil
	}
	var b bytes.Buffer
	if err := e.copyTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// copyTo writes the entry's data to w, exactly size() bytes.
func (e entry) copyTo(w io.Writer) error {
	if e.Data != nil || e.Host == "" {
		_, err := w.Write(e.Data)
		return err
	}
	f, err := e.open()
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.Copy(w, io.LimitReader(f, e.Size))
	if err == nil && n != e.Size {
		err = fmt.Errorf("%s changed during the build (%d bytes, was %d)", e.Host, n, e.Size)
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", e.Name, err)
	}
	return nil
}

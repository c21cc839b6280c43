package image

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/unit-os/unit/safepath"
)

// joinedSum is the SHA-256 and size of parts end to end, remembered by
// the parts' own hashes (which their memo checked): warm, nothing is read.
func (s sums) joinedSum(parts []part) (part, error) {
	k := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(k, "%s %d\n", p.SHA256, p.Size)
	}
	rec := filepath.Join(s.dir, "joined-"+hex.EncodeToString(k.Sum(nil))[:32])
	if b, err := os.ReadFile(rec); err == nil {
		var sum string
		var n int64
		if _, err := fmt.Sscanf(string(b), "%64s %d", &sum, &n); err == nil && len(sum) == 64 {
			return part{Size: n, SHA256: sum}, nil
		}
	}
	h := sha256.New()
	n, err := copyParts(h, parts)
	if err != nil {
		return part{}, err
	}
	j := part{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}
	if os.MkdirAll(s.dir, 0o755) == nil {
		_ = writeAtomic(rec, fmt.Appendf(nil, "%s %d\n", j.SHA256, j.Size), 0o644) // only a shortcut
	}
	return j, nil
}

// joinBytes is parts end to end, in memory.
func joinBytes(parts []part) ([]byte, error) {
	var b bytes.Buffer
	_, err := copyParts(&b, parts)
	return b.Bytes(), err
}

// copyParts writes parts end to end to w; a part with no file is empty.
func copyParts(w io.Writer, parts []part) (int64, error) {
	var total int64
	for _, p := range parts {
		if p.Path == "" {
			continue
		}
		f, err := os.Open(p.Path)
		if err != nil {
			return total, err
		}
		n, err := io.Copy(w, io.LimitReader(f, p.Size))
		f.Close()
		total += n
		if err == nil && n != p.Size {
			err = fmt.Errorf("%s: %d bytes, want %d", p.Path, n, p.Size)
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// writeOutput makes path parts end to end (of the given SHA-256 and
// size), unless it is that already: a warm build leaves its outputs as
// they are.
func (s sums) writeOutput(path, sum string, size int64, parts []part) error {
	if s.same(path, sum, size) {
		return nil
	}
	err := safepath.WriteFileFunc(path, 0o644, -1, -1, func(f *os.File) error {
		_, err := copyParts(f, parts)
		return err
	}, safepath.Trusted())
	if err == nil {
		s.noteFile(path, sum)
	}
	return err
}

// writeIfChanged is writeAtomic, unless path holds data already.
func (s sums) writeIfChanged(path string, data []byte) error {
	h := sha256.Sum256(data)
	sum := hex.EncodeToString(h[:])
	if s.same(path, sum, int64(len(data))) {
		return nil
	}
	err := writeAtomic(path, data, 0o644)
	if err == nil {
		s.noteFile(path, sum)
	}
	return err
}

// same says whether path is a regular file (not a symlink) of that size
// and SHA-256.
func (s sums) same(path, sum string, size int64) bool {
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != size {
		return false
	}
	got, _, err := s.of(path)
	return err == nil && got == sum
}

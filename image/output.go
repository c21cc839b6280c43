package image

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/unit-os/unit/safepath"
)

// joinedSum is the SHA-256 and size of parts end to end.
func joinedSum(parts []part) (part, error) {
	h := sha256.New()
	n, err := copyParts(h, parts)
	if err != nil {
		return part{}, err
	}
	return part{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
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
func writeOutput(path, sum string, size int64, parts []part) error {
	if same(path, sum, size) {
		return nil
	}
	return safepath.WriteFileFunc(path, 0o644, -1, -1, func(f *os.File) error {
		_, err := copyParts(f, parts)
		return err
	}, safepath.Trusted())
}

// writeIfChanged is writeAtomic, unless path holds data already.
func writeIfChanged(path string, data []byte) error {
	s := sha256.Sum256(data)
	if same(path, hex.EncodeToString(s[:]), int64(len(data))) {
		return nil
	}
	return writeAtomic(path, data, 0o644)
}

// same says whether path is a regular file (not a symlink) of that size
// and SHA-256.
func same(path, sum string, size int64) bool {
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != size {
		return false
	}
	got, _, err := fileSum(path)
	return err == nil && got == sum
}

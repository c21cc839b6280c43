package image

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/unit-os/unit/pkgbuild"
)

// partFormat is the version of how parts are written (cpio.go, writeTar):
// a change there must change it, so no older part is taken for a new one.
const partFormat = 2

// part is a packed part of the image (a compressed initramfs archive, a
// squashfs root), a file in the cache with its size and SHA-256.
type part struct {
	Path   string
	Size   int64
	SHA256 string
}

// bytes reads the part.
func (p part) bytes() ([]byte, error) { return os.ReadFile(p.Path) }

// partKey is the memo key of a part: the hash of what it is made of, not
// of its bytes. Each entry counts by its name, mode, device numbers, size
// and contents: its data's hash, or for a file not read yet (a keg's, in
// the store) its stamp. With the format version, the tool's version and
// arguments (the compression level among them) and the time stamp, the
// same key is the same bytes; a warm build finds its part without
// writing or compressing anything.
func partKey(kind, tool string, args []string, mtime int64, entries []entry) (string, error) {
	t, err := newTree(entries)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "unit image part %d\n%s\n%s\n%q\n%d\n", partFormat, kind, tool, args, mtime)
	for _, e := range t.Entries {
		hashEntry(h, e)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// memo keeps one kind of part in dir as KEY+ext, with KEY+ext+".sum"
// recording its size and SHA-256: a file cut short or changed since is
// found out when it is looked up, and made again.
type memo struct {
	dir  string
	ext  string
	keep int // parts kept (the most recently used)
}

// sums are the stamped hashes of the memo's parts (a dot directory, which
// pruneCache leaves alone).
func (m memo) sums() sums { return sums{dir: filepath.Join(m.dir, ".sums")} }

// lookup finds the part of key, checked against its record: by hashing
// it again, unless its stamp says it is the file hashed before.
func (m memo) lookup(key string) (part, bool) {
	p := filepath.Join(m.dir, key+m.ext)
	rec, err := os.ReadFile(p + ".sum")
	if err != nil {
		return part{}, false
	}
	sum, size, ok := strings.Cut(strings.TrimSpace(string(rec)), " ")
	n, err := strconv.ParseInt(size, 10, 64)
	if !ok || err != nil {
		return part{}, false
	}
	got, gotSize, err := m.sums().of(p)
	if err != nil || got != sum || gotSize != n {
		return part{}, false
	}
	// Recently used, for prune: the record's time stands for the part's,
	// whose own times stay as they are so its stamp still matches.
	now := time.Now()
	_ = os.Chtimes(p+".sum", now, now)
	return part{Path: p, Size: n, SHA256: sum}, true
}

// store makes the part of key: fill writes it to the path it is given
// (in a temporary directory beside the cache), which is then hashed,
// renamed into place and recorded. A failed or interrupted fill leaves
// nothing under the key.
func (m memo) store(key string, fill func(path string) error) (part, error) {
	if err := os.MkdirAll(m.dir, 0o755); err != nil {
		return part{}, err
	}
	tmp, err := os.MkdirTemp(m.dir, ".tmp-")
	if err != nil {
		return part{}, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "part")
	if err := fill(out); err != nil {
		return part{}, err
	}
	sum, size, err := fileSum(out)
	if err != nil {
		return part{}, err
	}
	p := filepath.Join(m.dir, key+m.ext)
	if err := os.Rename(out, p); err != nil {
		return part{}, err
	}
	if err := writeAtomic(p+".sum", fmt.Appendf(nil, "%s %d\n", sum, size), 0o644); err != nil {
		return part{}, err
	}
	m.sums().noteFile(p, sum)
	pruneCache(m.dir, 2*m.keep) // each part and its record
	return part{Path: p, Size: size, SHA256: sum}, nil
}

// fileSum is the SHA-256 and size of the file at p.
func fileSum(p string) (string, int64, error) { return pkgbuild.FileSHA256Size(p) }

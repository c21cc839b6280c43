package deb

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The ar archive a .deb is: an 8-byte magic, then each member as a 60-byte
// header (name 16, mtime 12, uid 6, gid 6, mode 8, size 10, "`\n") and its
// data padded to an even length. dpkg writes only short names, so neither
// the GNU nor the BSD long-name tables are read.
const (
	arMagic     = "!<arch>\n"
	arHeaderLen = 60
)

// member is one ar member: where its data lies in the file.
type member struct {
	name   string
	offset int64
	size   int64
}

// readAr lists the members of the ar archive in r (size bytes).
func readAr(r io.ReaderAt, size int64) ([]member, error) {
	magic := make([]byte, len(arMagic))
	if _, err := r.ReadAt(magic, 0); err != nil {
		return nil, fmt.Errorf("not a Debian package: %w", truncated(err))
	}
	if string(magic) != arMagic {
		return nil, errors.New("not a Debian package: no ar magic")
	}
	var out []member
	var h [arHeaderLen]byte
	for off := int64(len(arMagic)); off < size; {
		if _, err := r.ReadAt(h[:], off); err != nil {
			return nil, fmt.Errorf("ar header at %d: %w", off, truncated(err))
		}
		if h[58] != '`' || h[59] != '\n' {
			return nil, fmt.Errorf("ar header at %d: bad terminator", off)
		}
		name := strings.TrimSuffix(strings.TrimRight(string(h[0:16]), " "), "/")
		n, err := strconv.ParseInt(strings.TrimRight(string(h[48:58]), " "), 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("ar member %q: bad size %q", name, strings.TrimSpace(string(h[48:58])))
		}
		data := off + arHeaderLen
		if n > size-data {
			return nil, fmt.Errorf("ar member %q: %d bytes, only %d left: truncated", name, n, size-data)
		}
		out = append(out, member{name: name, offset: data, size: n})
		off = data + n + n%2
	}
	return out, nil
}

func truncated(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

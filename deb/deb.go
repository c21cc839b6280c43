// Package deb reads a Debian binary package in-process: the ar archive,
// its control and data tarballs in each compression dpkg writes, a control
// member bounded in size, and the data extracted into a directory safely
// against a hostile archive. No dpkg-deb, no process per package.
//
// Why by hand and not pault.ag/go/debian's deb package: that package also
// links ProtonMail/go-crypto (for signed control files) into every binary
// that imports it, and unit's binary is PID 1's; the ar format is a 60-byte
// header, and the compressions come from the standard library (gzip, bzip2),
// klauspost/compress (zstd, already a module of ours, for NATS) and
// ulikunitz/xz, both well kept and pure Go. Together they add about 0.6 MB
// to bin/unit. Pure Go xz decodes at about a third of liblzma's speed
// (108 MB of kernel: ~5 s against ~1.7 s), so a large data.tar.xz goes
// through the xz program when the machine has one (xzcmd.go).
package deb

import (
	"bufio"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Package is an open .deb.
type Package struct {
	path          string
	f             *os.File
	control, data member
}

// Open opens the .deb at path and checks its ar layout as dpkg does:
// debian-binary first (format 2.x), then control.tar*, then data.tar*;
// members named _* are ignored.
func Open(path string) (*Package, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	p, err := open(path, f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

func open(path string, f *os.File) (*Package, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	all, err := readAr(f, st.Size())
	if err != nil {
		return nil, err
	}
	var ms []member
	for _, m := range all {
		if !strings.HasPrefix(m.name, "_") {
			ms = append(ms, m)
		}
	}
	if len(ms) < 3 || ms[0].name != "debian-binary" {
		return nil, errors.New("not a Debian binary package: debian-binary is not the first member")
	}
	if ms[0].size > 64 {
		return nil, fmt.Errorf("debian-binary: %d bytes", ms[0].size)
	}
	v := make([]byte, ms[0].size)
	if _, err := f.ReadAt(v, ms[0].offset); err != nil {
		return nil, fmt.Errorf("debian-binary: %w", truncated(err))
	}
	if !strings.HasPrefix(string(v), "2.") {
		return nil, fmt.Errorf("debian-binary: format %q, want 2.x", strings.TrimSpace(string(v)))
	}
	if !strings.HasPrefix(ms[1].name, "control.tar") {
		return nil, fmt.Errorf("second member is %q, want control.tar*", ms[1].name)
	}
	if !strings.HasPrefix(ms[2].name, "data.tar") {
		return nil, fmt.Errorf("third member is %q, want data.tar*", ms[2].name)
	}
	return &Package{path: path, f: f, control: ms[1], data: ms[2]}, nil
}

// Close closes the file.
func (p *Package) Close() error { return p.f.Close() }

// DataCompression is the data tarball's compression: "xz", "gz", "zst",
// "bz2" or "" (none).
func (p *Package) DataCompression() string {
	return strings.TrimPrefix(strings.TrimPrefix(p.data.name, "data.tar"), ".")
}

// tarball returns the uncompressed stream of member m.
func (p *Package) tarball(m member) (io.ReadCloser, error) {
	raw := bufio.NewReaderSize(io.NewSectionReader(p.f, m.offset, m.size), 1<<16)
	comp := m.name[strings.Index(m.name, ".tar")+len(".tar"):]
	switch comp {
	case "":
		return io.NopCloser(raw), nil
	case ".gz":
		r, err := gzip.NewReader(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.name, err)
		}
		return r, nil
	case ".xz":
		if m.size >= xzToolMin {
			if r := xzTool(io.NewSectionReader(p.f, m.offset, m.size)); r != nil {
				return r, nil
			}
		}
		r, err := xz.NewReader(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.name, err)
		}
		return io.NopCloser(r), nil
	case ".zst":
		r, err := zstd.NewReader(raw, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.name, err)
		}
		return r.IOReadCloser(), nil
	case ".bz2":
		if strings.HasPrefix(m.name, "data.") {
			return io.NopCloser(bzip2.NewReader(raw)), nil
		}
	}
	return nil, fmt.Errorf("%s: compression %q not supported", m.name, comp)
}

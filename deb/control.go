package deb

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
)

// ErrTooLarge is wrapped by Control for a member over the asked bound.
var ErrTooLarge = errors.New("too large")

// Control returns the control archive's members named in names (control,
// conffiles, postinst …), by name; a name the archive lacks is absent from
// the map. A member over max bytes is an error wrapping ErrTooLarge that
// names it. The control archive is read once.
func (p *Package) Control(max int64, names ...string) (map[string][]byte, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	r, err := p.tarball(p.control)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.path, err)
	}
	defer r.Close()
	out := map[string][]byte{}
	tr := tar.NewReader(r)
	for len(out) < len(want) {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", p.path, p.control.name, truncated(err))
		}
		name := path.Clean("/" + h.Name)[1:]
		if !want[name] || h.Typeflag != tar.TypeReg {
			continue
		}
		if h.Size > max {
			return nil, fmt.Errorf("%s: control member %s: %d bytes, more than %d: %w", p.path, name, h.Size, max, ErrTooLarge)
		}
		b := make([]byte, h.Size)
		if _, err := io.ReadFull(tr, b); err != nil {
			return nil, fmt.Errorf("%s: control member %s: %w", p.path, name, truncated(err))
		}
		out[name] = b
	}
	return out, nil
}

// ControlFile returns one control member, fs.ErrNotExist if there is none.
func (p *Package) ControlFile(name string, max int64) ([]byte, error) {
	m, err := p.Control(max, name)
	if err != nil {
		return nil, err
	}
	b, ok := m[name]
	if !ok {
		return nil, fmt.Errorf("%s: control member %s: %w", p.path, name, fs.ErrNotExist)
	}
	return b, nil
}

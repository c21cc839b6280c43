package image

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/unit-os/unit/maintscript"
	"github.com/unit-os/unit/pkgbuild"
)

// postinstCopies are the files the kegs' postinsts install from their own
// (ucf SRC DST, cp SRC DST), made at build time where the image has no
// DST; a SRC the package lacks is noted.
func postinstCopies(kegs []*pkgbuild.Keg, image []entry) ([]entry, []string) {
	have := map[string]bool{}
	for _, e := range image {
		have[path.Clean(strings.TrimPrefix(e.Name, "/"))] = true
	}
	var out []entry
	var notes []string
	for _, k := range kegs {
		if k.Deb.Postinst == "" {
			continue
		}
		name := k.Deb.Package + ".postinst"
		sc, err := maintscript.Scan(name, k.Deb.Package, []byte(k.Deb.Postinst))
		if err != nil {
			continue // Gather notes it
		}
		for _, c := range sc.Copies {
			dst := strings.TrimPrefix(path.Clean(c.To), "/")
			if have[dst] || !fs.ValidPath(dst) || !path.IsAbs(c.From) {
				continue
			}
			data, mode, err := readKegFile(k.Dir, c.From)
			if err != nil {
				notes = append(notes, fmt.Sprintf("%s: %s -> %s: not copied: %v", c.Pos, c.From, c.To, err))
				continue
			}
			out = append(out, entry{Name: dst, Mode: mode, Data: data})
			have[dst] = true
		}
	}
	return out, notes
}

// readKegFile reads a regular file of a keg by its guest path, never
// following a link out of the keg.
func readKegFile(dir, guest string) ([]byte, fs.FileMode, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, 0, err
	}
	defer r.Close()
	rel := strings.TrimPrefix(path.Clean(guest), "/")
	fi, err := r.Lstat(rel)
	switch {
	case err != nil:
		return nil, 0, fmt.Errorf("%s is not in the package", guest)
	case !fi.Mode().IsRegular():
		return nil, 0, fmt.Errorf("%s is not a file", guest)
	}
	f, err := r.Open(rel)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCopy+1))
	if err != nil {
		return nil, 0, err
	}
	if len(data) > maxCopy {
		return nil, 0, fmt.Errorf("%s: larger than %d bytes", guest, maxCopy)
	}
	return data, fi.Mode().Perm(), nil
}

// maxCopy bounds a file a postinst installs (a conffile's template).
const maxCopy = 16 << 20

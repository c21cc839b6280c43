// Package translate is what unit does with systemd's declarations: the
// files a Debian package ships for systemd become unit's configuration.
// A unit file (NAME.service and its drop-ins) becomes a [service.NAME]
// (Service); tmpfiles.d and sysusers.d are to follow. Every key keeps its
// file:line, and what unit does not honour is listed with its line and
// why, never dropped in silence. It reads a directory tree, "/" on a
// running system or an image's tree at build time, and never follows a
// link out of it.
package translate

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/unit-os/unit/systemd/unitfile"
)

// UnitDirs are where unit files are looked for, the first one winning:
// the administrator's, then the packages' (Debian's /lib and, merged or
// newer, /usr/lib).
var UnitDirs = []string{"etc/systemd/system", "lib/systemd/system", "usr/lib/systemd/system"}

// maxLinks bounds the symlinks one lookup follows, as the kernel's 40.
const maxLinks = 40

// errMasked is a unit linked to /dev/null.
var errMasked = errors.New("masked (a link to /dev/null)")

// unitFile is one file read under the root.
type unitFile struct {
	path string // the guest path it was asked by ("/lib/systemd/system/x.service")
	real string // the guest path of the regular file, after links
	data []byte
}

// reader reads files under a root without leaving it: os.Root refuses a
// step out, and the last component's links are resolved here, an
// absolute target taken as the root's path (as it reads in the guest).
type reader struct {
	root *os.Root
	// links are the guest paths of the links followed (an image must
	// carry them for the guest to read the same files).
	links []string
}

// read returns the regular file at guest path p (no leading slash), and
// fs.ErrNotExist when there is none.
func (r *reader) read(p string) (*unitFile, error) {
	cur := p
	for range maxLinks {
		fi, err := r.root.Lstat(cur)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fs.ErrNotExist
			}
			return nil, fmt.Errorf("/%s: %w", cur, err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			if !fi.Mode().IsRegular() {
				return nil, fmt.Errorf("/%s: not a regular file", cur)
			}
			data, err := r.root.ReadFile(cur)
			if err != nil {
				return nil, fmt.Errorf("/%s: %w", cur, err)
			}
			return &unitFile{path: "/" + p, real: "/" + cur, data: data}, nil
		}
		target, err := r.root.Readlink(cur)
		if err != nil {
			return nil, fmt.Errorf("/%s: %w", cur, err)
		}
		if target == "/dev/null" {
			return nil, fmt.Errorf("/%s: %w", p, errMasked)
		}
		r.links = append(r.links, "/"+cur)
		next := target
		if path.IsAbs(target) {
			next = strings.TrimPrefix(path.Clean(target), "/")
		} else {
			next = path.Join(path.Dir(cur), target)
		}
		if next == ".." || strings.HasPrefix(next, "../") || next == "." {
			return nil, fmt.Errorf("/%s: link to %s leads out of the root", cur, target)
		}
		cur = next
	}
	return nil, fmt.Errorf("/%s: more than %d links", p, maxLinks)
}

// find reads the unit file of name (e.g. "foo@bar.service"): the name in
// every unit directory, then its template's, as systemd looks.
func (r *reader) find(name string) (*unitFile, error) {
	names := []string{name}
	if t, ok := unitfile.TemplateOf(name); ok {
		names = append(names, t)
	}
	for _, n := range names {
		for _, d := range UnitDirs {
			f, err := r.read(d + "/" + n)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return f, err
		}
	}
	return nil, fs.ErrNotExist
}

// dropins reads the drop-ins of the unit names ("NAME.service.d/*.conf"
// in every unit directory): ordered by file name across directories, a
// name in an earlier directory hiding the same name in a later one.
func (r *reader) dropins(names ...string) ([]*unitFile, error) {
	chosen := map[string]string{} // file name → guest path (no slash)
	for _, d := range UnitDirs {
		for _, n := range names {
			dir := d + "/" + n + ".d"
			fi, err := r.root.Stat(dir)
			if err != nil || !fi.IsDir() {
				continue
			}
			f, err := r.root.Open(dir)
			if err != nil {
				return nil, fmt.Errorf("/%s: %w", dir, err)
			}
			ents, err := f.ReadDir(-1)
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("/%s: %w", dir, err)
			}
			for _, e := range ents {
				if _, taken := chosen[e.Name()]; strings.HasSuffix(e.Name(), ".conf") && !taken {
					chosen[e.Name()] = dir + "/" + e.Name()
				}
			}
		}
	}
	var out []*unitFile
	for _, base := range slices.Sorted(maps.Keys(chosen)) {
		f, err := r.read(chosen[base])
		if errors.Is(err, errMasked) {
			continue // a drop-in linked to /dev/null is switched off
		}
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

package pkgbuild

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// DebInfo is one Debian binary package of a closure as pinned in a lock
// file and recorded in its keg: what the image builder needs to keep the
// runtime closure, honour conffiles and drop what only maintainer scripts
// need.
type DebInfo struct {
	Package  string `toml:"name" json:"package"`
	Version  string `toml:"version" json:"version"`
	Arch     string `toml:"arch" json:"arch"`
	SHA256   string `toml:"sha256" json:"sha256"`
	Filename string `toml:"filename" json:"filename"` // the .deb's file name in the archive
	Source   string `toml:"source" json:"source"`     // source package name
	// Path is the .deb's place in the archive (pool/main/n/nginx/…), and
	// Archive the archive that served it (debian, debian-security): what
	// a snapshot archive is asked for. Absent in older locks. Not part of
	// the keg (json "-"): where a .deb came from does not change it.
	Path    string `toml:"path,omitempty" json:"-"`
	Archive string `toml:"archive,omitempty" json:"-"`
	// Resolved is the lock's resolution time, copied here by readLock.
	Resolved time.Time `toml:"-" json:"-"`
	// Depends are the packages of the closure chosen for Pre-Depends and
	// Depends (alternatives and virtual packages resolved), sorted.
	Depends []string `toml:"depends" json:"depends"`
	// Recommends are the packages of the closure chosen for Recommends,
	// when the recipe asked for them (recommends), sorted.
	Recommends []string `toml:"recommends,omitempty" json:"recommends,omitempty"`
	Essential  bool     `toml:"essential,omitempty" json:"essential,omitempty"`
	Priority   string   `toml:"priority,omitempty" json:"priority,omitempty"`
	// Conffiles are the absolute paths listed in the .deb's control member;
	// filled in from the .deb when the keg is built (not in the lock).
	Conffiles []string `toml:"-" json:"conffiles,omitempty"`
	// Postinst is the .deb's postinst script, kept so the image builder can
	// read what it declares (package maintscript); never run.
	Postinst string `toml:"-" json:"postinst,omitempty"`
}

var (
	debVersionRE = regexp.MustCompile(`^[0-9][A-Za-z0-9.+~:-]*$`)
	debArchRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	debFileRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.+~%_:-]*\.deb$`)
	debArchiveRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*$`)
)

// check refuses values that could leave the store or the cache when they
// become paths or arguments: lock files and apt output are input too.
func (d *DebInfo) check() error {
	switch {
	case !nameRE.MatchString(d.Package):
		return fmt.Errorf("package name %q: want a Debian package name", d.Package)
	case !debVersionRE.MatchString(d.Version):
		return fmt.Errorf("%s: version %q: not a Debian version", d.Package, d.Version)
	case !debArchRE.MatchString(d.Arch):
		return fmt.Errorf("%s: arch %q: not a Debian architecture", d.Package, d.Arch)
	case !sha256RE.MatchString(d.SHA256):
		return fmt.Errorf("%s: sha256 %q: want 64 lower-case hex digits", d.Package, d.SHA256)
	case !debFileRE.MatchString(d.Filename):
		return fmt.Errorf("%s: filename %q: want a .deb file name", d.Package, d.Filename)
	case d.Source != "" && !nameRE.MatchString(d.Source):
		return fmt.Errorf("%s: source %q: not a package name", d.Package, d.Source)
	case d.Path != "" && !poolPath(d.Path, d.Filename):
		return fmt.Errorf("%s: path %q: want pool/…/%s", d.Package, d.Path, d.Filename)
	case d.Archive != "" && !debArchiveRE.MatchString(d.Archive):
		return fmt.Errorf("%s: archive %q: want an archive name like debian or debian-security", d.Package, d.Archive)
	}
	for _, dep := range append(append([]string(nil), d.Depends...), d.Recommends...) {
		if !nameRE.MatchString(dep) {
			return fmt.Errorf("%s: depends %q: not a package name", d.Package, dep)
		}
	}
	return nil
}

// poolPath says whether p is a pool path ending in file: relative, under
// pool/, no "..", no empty or dot parts.
func poolPath(p, file string) bool {
	if !strings.HasPrefix(p, "pool/") || !strings.HasSuffix(p, "/"+file) {
		return false
	}
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." {
			return false
		}
	}
	return true
}

package image

import (
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/unit-os/unit/pkgbuild"
)

// InKegs says whether prog (a service's exec[0]: an absolute path, or a
// bare name looked up on the guest's default PATH) is a file or symlink
// in one of kegs, so `unit check` can answer for an image's packages
// without building the image. The build itself checks more (the file's
// libraries, busybox's applets); this answers only "is it there".
func InKegs(kegs []*pkgbuild.Keg, prog string) bool {
	cands := []string{prog}
	if !strings.Contains(prog, "/") {
		cands = pathCandidates(prog)
	} else if !path.IsAbs(prog) {
		return false
	}
	for _, k := range kegs {
		for _, c := range cands {
			if _, err := os.Lstat(filepath.Join(k.Dir, filepath.FromSlash(path.Clean(c)))); err == nil {
				return true
			}
		}
	}
	return false
}

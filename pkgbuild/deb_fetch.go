package pkgbuild

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// debFile returns the path of the pinned .deb d in the sha256-keyed
// download cache, fetching it first (apt-get download) when the cache does
// not hold it; the sha256 is checked either way. lockPath and update name
// the lock and the recipe for the error when the archive dropped the pin.
func (b *Builder) debFile(ctx context.Context, d DebInfo, lockPath, update string) (string, error) {
	return b.cached(d.SHA256, d.Filename, func(tmp string) error {
		dir := filepath.Dir(tmp)
		spec := d.Package + "=" + d.Version
		if d.Arch != "all" && d.Arch != "" {
			spec = d.Package + ":" + d.Arch + "=" + d.Version
		}
		if _, err := run(ctx, dir, nil, "apt-get", append(b.aptBinOpts(), "download", "-q", spec)...); err != nil {
			if gone(err) {
				return fmt.Errorf("%s: %s %s is no longer in the archive; run unit pkg update %s", lockPath, d.Package, d.Version, update)
			}
			return err
		}
		// apt names the file itself (with the epoch escaped): take the one .deb.
		debs, _ := filepath.Glob(filepath.Join(dir, "*.deb"))
		if len(debs) != 1 {
			return fmt.Errorf("apt-get download %s: want one .deb, found %d", spec, len(debs))
		}
		return os.Rename(debs[0], tmp)
	})
}

// gone tells apt's "no such version" answers from other failures.
func gone(err error) bool {
	msg := err.Error()
	for _, s := range []string{"was not found", "Can't find a source", "Unable to locate package", "Can not find version"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

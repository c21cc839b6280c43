package pkgbuild

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// Stale returns the recipe files among files whose lock pins a .deb that
// neither the download cache holds nor the archive serves any more (Debian
// keeps only the newest version of a package). Recipes without a lock are
// not stale. It downloads nothing: apt is asked for the URIs only, one call
// per lock.
func (b *Builder) Stale(ctx context.Context, files []string) ([]string, error) {
	var stale []string
	for _, f := range files {
		r, err := ParseFile(f)
		if err != nil {
			return nil, err
		}
		debs, err := lockedDebs(r) // the closure's and the deps = false pins
		if err != nil {
			return nil, err
		}
		var specs []string
		for _, d := range debs {
			if _, err := os.Stat(filepath.Join(b.cache, "sources", d.SHA256)); err == nil {
				continue
			}
			spec := d.Package + "=" + d.Version
			if d.Arch != "all" {
				spec = d.Package + ":" + d.Arch + "=" + d.Version
			}
			specs = append(specs, spec)
		}
		if len(specs) == 0 {
			continue
		}
		args := append(b.aptBinOpts(), append([]string{"download", "-q", "--print-uris"}, specs...)...)
		if _, err := run(ctx, "", nil, "apt-get", args...); err != nil {
			if !gone(err) {
				return nil, fmt.Errorf("%s: %w", LockPath(r.File), err)
			}
			stale = append(stale, f)
		}
	}
	return stale, nil
}

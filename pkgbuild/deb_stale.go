package pkgbuild

import (
	"context"
	"fmt"

	"github.com/unit-os/unit/cas"
)

// Stale returns the recipe files among files whose lock pins a .deb that
// no place serves any more: not the download cache, not a configured
// cache, not the archive (Debian keeps only the newest version of a
// package), not a snapshot archive. Recipes without a lock are not stale.
// It downloads nothing: caches and snapshots are asked with a stat or a
// HEAD request, apt for the URIs only, one call per lock.
func (b *Builder) Stale(ctx context.Context, files []string) ([]string, error) {
	locks, err := readLocks(files)
	if err != nil {
		return nil, err
	}
	var stale []string
	for _, lr := range locks {
		var specs []string
		var rest []DebInfo
		for _, d := range lr.debs {
			if b.inCache(d.SHA256) || cas.Has(ctx, b.caches, d.SHA256) {
				continue
			}
			specs = append(specs, debSpec(d))
			rest = append(rest, d)
		}
		if len(specs) == 0 {
			continue
		}
		args := append(b.aptBinOpts(), append([]string{"download", "-q", "--print-uris"}, specs...)...)
		_, err := run(ctx, "", nil, "apt-get", args...)
		if err == nil {
			continue
		}
		if !gone(err) {
			return nil, fmt.Errorf("%s: %w", lr.lockPath, err)
		}
		for _, d := range rest {
			if !cas.Has(ctx, b.snapshotSources(d), d.SHA256) {
				stale = append(stale, lr.file)
				break
			}
		}
	}
	return stale, nil
}

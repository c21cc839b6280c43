package pkgbuild

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/unit-os/unit/cas"
	"github.com/unit-os/unit/safepath"
)

// prefetchDebs puts the .debs of the lock a build will unpack into the
// download cache before it unpacks them one by one: those whose keg is
// not in the store, but the recipe's own (fetched only if the recipe's
// keg is built).
func (b *Builder) prefetchDebs(ctx context.Context, l *Lock, lockPath, update string) error {
	var need []DebInfo
	for _, d := range l.Debs {
		if d.Package != l.Top && !b.haveDebKeg(d) {
			need = append(need, d)
		}
	}
	return b.fetchDebs(ctx, need, lockPath, update)
}

// haveDebKeg says whether the store holds d's keg (debKeg's hash).
func (b *Builder) haveDebKeg(d DebInfo) bool {
	k, err := b.debKegOf(d)
	if err != nil {
		return false
	}
	_, err = os.Stat(filepath.Join(k.Dir, MetaName))
	return err == nil
}

// fetchDebs puts debs into the download cache: from the configured
// caches, then the ones they lack with a single apt-get download (apt
// fetches several at once), then one by one through the whole chain
// (debFile) for what apt did not give, whose error is the full account of
// where each was looked for.
func (b *Builder) fetchDebs(ctx context.Context, debs []DebInfo, lockPath, update string) error {
	dir := filepath.Join(b.cache, "sources")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var missing []DebInfo
	for _, d := range debs {
		p := filepath.Join(dir, d.SHA256)
		if _, err := os.Stat(p); err == nil {
			continue
		}
		if len(b.caches) > 0 {
			if _, err := cas.Fetch(ctx, b.caches, d.SHA256, p); err == nil {
				continue
			}
		}
		missing = append(missing, d)
	}
	if len(missing) == 0 {
		return nil
	}
	start := time.Now()
	b.say(update, "fetching %d .debs", len(missing))
	if len(missing) > 1 {
		b.aptDownload(ctx, dir, missing)
	}
	var errs []error
	for _, d := range missing {
		if _, err := b.debFile(ctx, d, lockPath, update); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		b.say(update, "fetched %d .debs in %.1fs", len(missing), time.Since(start).Seconds())
	}
	return errors.Join(errs...)
}

// aptDownload fetches debs from the mirror in one apt-get call and moves
// each whose sha256 is pinned into the cache dir. A failure (one version
// gone fails the whole call) is left to the one-by-one fallback.
func (b *Builder) aptDownload(ctx context.Context, dir string, debs []DebInfo) {
	tmp, err := os.MkdirTemp(dir, ".tmp-")
	if err != nil {
		return
	}
	defer os.RemoveAll(tmp)
	want := map[string]DebInfo{}
	args := append(b.aptBinOpts(), "download", "-q")
	for _, d := range debs {
		want[d.SHA256] = d
		args = append(args, debSpec(d))
	}
	if _, err := run(ctx, tmp, nil, "apt-get", args...); err != nil {
		return
	}
	got, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
	for _, f := range got {
		sum, err := FileSHA256(f)
		if err != nil {
			continue
		}
		d, ok := want[sum]
		if !ok {
			continue // not what the lock pins: the fallback reports it
		}
		dst := filepath.Join(dir, sum)
		if err := safepath.Rename(f, dst, safepath.Trusted()); err != nil {
			continue
		}
		b.writeThrough(ctx, d, dst)
	}
}

// lockedRecipe is what a recipe's lock pins: its closure's .debs and
// those of its deps = false sources.
type lockedRecipe struct {
	file, lockPath, name string
	debs                 []DebInfo
}

// readLocks reads the locks of the recipe files; a recipe without a deb
// source or without a lock is skipped.
func readLocks(files []string) ([]lockedRecipe, error) {
	var out []lockedRecipe
	for _, f := range files {
		r, err := ParseFile(f)
		if err != nil {
			return nil, err
		}
		debs, err := lockedDebs(r)
		if err != nil {
			return nil, err
		}
		if len(debs) > 0 {
			out = append(out, lockedRecipe{file: f, lockPath: LockPath(r.File), name: r.Name, debs: debs})
		}
	}
	return out, nil
}

// Pull fetches every .deb the recipes' locks pin into the download cache
// through the whole chain, so the machine can then build them offline. It
// returns how many were there already and how many it fetched.
func (b *Builder) Pull(ctx context.Context, files []string) (had, fetched int, err error) {
	locks, err := readLocks(files)
	if err != nil {
		return 0, 0, err
	}
	seen := map[string]bool{}
	var errs []error
	for _, lr := range locks {
		for _, d := range lr.debs {
			if !seen[d.SHA256] {
				seen[d.SHA256] = true
				if b.inCache(d.SHA256) {
					had++
				}
			}
		}
		if err := b.fetchDebs(ctx, lr.debs, lr.lockPath, lr.name); err != nil {
			errs = append(errs, err)
		}
	}
	for sum := range seen {
		if b.inCache(sum) {
			fetched++
		}
	}
	return had, fetched - had, errors.Join(errs...)
}

// Push puts every .deb the recipes' locks pin that the download cache
// holds to each place. It returns how many it put (per place, counted
// once) and how many the cache lacks.
func (b *Builder) Push(ctx context.Context, files []string, places []cas.Putter) (put, absent int, err error) {
	if len(places) == 0 {
		return 0, 0, fmt.Errorf("nowhere to push: give --to PLACE or set push in %s", PkgConfigPath())
	}
	locks, err := readLocks(files)
	if err != nil {
		return 0, 0, err
	}
	seen := map[string]bool{}
	var errs []error
	for _, lr := range locks {
		for _, d := range lr.debs {
			if seen[d.SHA256] {
				continue
			}
			seen[d.SHA256] = true
			if !b.inCache(d.SHA256) {
				absent++
				continue
			}
			ok := true
			for _, p := range places {
				if err := cas.PutFile(ctx, p, d.SHA256, filepath.Join(b.cache, "sources", d.SHA256)); err != nil {
					errs = append(errs, fmt.Errorf("%s %s: %w", d.Package, d.Version, err))
					ok = false
				}
			}
			if ok {
				put++
			}
		}
	}
	return put, absent, errors.Join(errs...)
}

func (b *Builder) inCache(sum string) bool {
	_, err := os.Stat(filepath.Join(b.cache, "sources", sum))
	return err == nil
}

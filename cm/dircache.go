package cm

import (
	"context"
	"path/filepath"
	"sync"

	"github.com/unit-os/unit/safepath"
)

// dirCache keeps the directories one convergence pass reached by safe
// walks, so a thousand files in ten directories cost ten walks, not a
// thousand (a walk opens and stats every step from /). A held descriptor
// pins the directory the walk judged safe: a swap after it redirects
// nothing. A directory replaced mid-pass is written into as it was; its
// watch then marks the path dirty and the next pass walks afresh.
type dirCache struct {
	mu   sync.Mutex
	dirs map[string]*safepath.Dir
}

type dirCacheKey struct{}

func withDirCache(ctx context.Context) (context.Context, func()) {
	c := &dirCache{dirs: map[string]*safepath.Dir{}}
	return context.WithValue(ctx, dirCacheKey{}, c), c.close
}

func (c *dirCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range c.dirs {
		d.Close()
	}
	c.dirs = nil
}

// openParent reaches the directory holding path by a safe walk, or from
// the pass's cache. done releases it (a no-op for a cached one). A
// missing directory is not cached: the pass may make it.
func openParent(ctx context.Context, path string, opts ...safepath.Option) (d *safepath.Dir, base string, done func(), err error) {
	c, _ := ctx.Value(dirCacheKey{}).(*dirCache)
	if c == nil {
		d, base, err = safepath.OpenParent(path, opts...)
		if err != nil {
			return nil, "", func() {}, err
		}
		return d, base, func() { d.Close() }, nil
	}
	dir, base := filepath.Split(filepath.Clean(path))
	c.mu.Lock()
	d = c.dirs[dir]
	c.mu.Unlock()
	if d != nil {
		return d, base, func() {}, nil
	}
	d, base, err = safepath.OpenParent(path, opts...)
	if err != nil {
		return nil, "", func() {}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dirs == nil { // the pass ended (cannot happen while it runs)
		return d, base, func() { d.Close() }, nil
	}
	if held := c.dirs[dir]; held != nil {
		d.Close()
		return held, base, func() {}, nil
	}
	c.dirs[dir] = d
	return d, base, func() {}, nil
}

package cm

import (
	"fmt"
	"os"
	"sync"

	"github.com/unit-os/unit/safepath"
)

// writeFileAt is safepath.WriteFile into a directory of the pass's cache;
// with a dirSyncer the directory fsync is left to it, so a convergence that
// writes many files into one directory syncs the directory once. The temp
// file is still fsynced before the rename: that is what keeps a crash from
// exposing a torn file; the deferred directory sync only decides whether
// the rename itself survives.
func writeFileAt(d *safepath.Dir, base string, data []byte, mode os.FileMode, uid, gid int, ds *dirSyncer) error {
	path := d.Path() + "/" + base
	tmp, err := d.WriteTemp(base, data, mode, uid, gid, -1, true)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := d.Commit(tmp, base); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if ds != nil {
		ds.add(d.Path())
		return nil
	}
	// The new content is in place from here on; a failed directory sync is
	// still reported, but there is no temp file left to clean up.
	if err := d.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// dirSyncer collects directories whose renames must be made durable.
type dirSyncer struct {
	mu   sync.Mutex
	dirs map[string]struct{}
}

func (d *dirSyncer) add(dir string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dirs == nil {
		d.dirs = map[string]struct{}{}
	}
	d.dirs[dir] = struct{}{}
}

// flush fsyncs every collected directory once.
func (d *dirSyncer) flush() error {
	d.mu.Lock()
	dirs := d.dirs
	d.dirs = nil
	d.mu.Unlock()
	var first error
	for dir := range dirs {
		if err := safepath.SyncDir(dir); err != nil && first == nil {
			first = err
		}
	}
	return first
}

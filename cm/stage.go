package cm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// stager batches the durability of many file writes in one convergence:
// each file is written to its temp name without an fsync, then one
// syncfs(2) per filesystem makes every temp durable, and only then are they
// renamed into place and their directories fsynced. The order that makes a
// crash safe is kept (new bytes durable before any rename), at the cost of
// one sync per pass instead of one per file.
//
// A file whose dependents converge in the same pass is not staged: they
// must see it in place when they run.
type stager struct {
	mu    sync.Mutex
	items []staged
}

type staged struct {
	id, tmp, path string
}

type stagerKey struct{}

func withStager(ctx context.Context, s *stager) context.Context {
	return context.WithValue(ctx, stagerKey{}, s)
}

func stagerFrom(ctx context.Context) *stager {
	s, _ := ctx.Value(stagerKey{}).(*stager)
	return s
}

// write writes data to a temp file beside path (mode and ids set, not
// synced) and queues the rename.
func (s *stager) write(id, path string, data []byte, mode os.FileMode, uid, gid int) (err error) {
	dir, base := filepath.Split(path)
	f, err := os.CreateTemp(dir, "."+base+".unit-tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("write %s: %w", path, err)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = fchownIfNeeded(f, uid, gid); err != nil {
		return err
	}
	if err = f.Chmod(mode); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	s.mu.Lock()
	s.items = append(s.items, staged{id: id, tmp: f.Name(), path: path})
	s.mu.Unlock()
	return nil
}

// commit syncs the filesystems of the staged temps, renames them into
// place and syncs their directories. It returns the ids that failed.
func (s *stager) commit() map[string]error {
	s.mu.Lock()
	items := s.items
	s.items = nil
	s.mu.Unlock()
	if len(items) == 0 {
		return nil
	}
	failed := map[string]error{}
	fail := func(it staged, err error) {
		failed[it.id] = fmt.Errorf("write %s: %w", it.path, err)
		os.Remove(it.tmp)
	}
	// One syncfs per filesystem (by device number).
	synced := map[uint64]error{}
	devOf := map[string]uint64{}
	for _, it := range items {
		dir := filepath.Dir(it.path)
		if _, ok := devOf[dir]; ok {
			continue
		}
		var st unix.Stat_t
		if err := unix.Stat(dir, &st); err != nil {
			devOf[dir] = ^uint64(0)
			continue
		}
		devOf[dir] = st.Dev
		if _, ok := synced[st.Dev]; ok {
			continue
		}
		synced[st.Dev] = syncfs(dir)
	}
	var ds dirSyncer
	for _, it := range items {
		dev := devOf[filepath.Dir(it.path)]
		if err, ok := synced[dev]; !ok || err != nil {
			if err == nil {
				err = fmt.Errorf("cannot stat %s", filepath.Dir(it.path))
			}
			fail(it, err)
			continue
		}
		if err := os.Rename(it.tmp, it.path); err != nil {
			fail(it, err)
			continue
		}
		ds.add(filepath.Dir(it.path))
	}
	if err := ds.flush(); err != nil {
		for _, it := range items {
			if _, ok := failed[it.id]; !ok {
				failed[it.id] = err
			}
		}
	}
	return failed
}

func syncfs(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("syncfs %s: %w", dir, err)
	}
	defer unix.Close(fd)
	if err := unix.Syncfs(fd); err != nil {
		return fmt.Errorf("syncfs %s: %w", dir, err)
	}
	return nil
}

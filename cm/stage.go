package cm

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/unit-os/unit/safepath"
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
	dirs  map[dirKey]*safepath.Dir // held from the write to the rename
	umask int                      // the process umask, -1 if unknown
}

type dirKey struct{ dev, ino uint64 }

func newStager() *stager { return &stager{umask: readUmask(), dirs: map[dirKey]*safepath.Dir{}} }

// readUmask reads the umask from /proc/self/status: umask(2) can only be
// read by setting it, which would race with other goroutines creating files.
func readUmask() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Umask:"); ok {
			if m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
				return int(m)
			}
		}
	}
	return -1
}

type staged struct {
	id, tmp, base string
	dir           *safepath.Dir
}

func (it staged) path() string { return it.dir.Path() + "/" + it.base }

type stagerKey struct{}

func withStager(ctx context.Context, s *stager) context.Context {
	return context.WithValue(ctx, stagerKey{}, s)
}

func stagerFrom(ctx context.Context) *stager {
	s, _ := ctx.Value(stagerKey{}).(*stager)
	return s
}

// write writes data to a temp file beside base in d (mode and ids set, not
// synced) and queues the rename. The stager holds its own handle on d, one
// per directory, until commit.
func (s *stager) write(id string, d *safepath.Dir, base string, data []byte, mode os.FileMode, uid, gid int) error {
	tmp, err := d.WriteTemp(base, data, mode, uid, gid, s.umask, false)
	if err != nil {
		return fmt.Errorf("write %s/%s: %w", d.Path(), base, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := dirKey{d.Dev(), d.Ino()}
	held := s.dirs[k]
	if held == nil {
		if held, err = d.Dup(); err != nil {
			unix.Unlinkat(d.Fd(), tmp, 0)
			return err
		}
		s.dirs[k] = held
	}
	s.items = append(s.items, staged{id: id, tmp: tmp, base: base, dir: held})
	return nil
}

// commit syncs the filesystems of the staged temps, renames them into
// place and syncs their directories. It returns the ids that failed.
func (s *stager) commit() map[string]error {
	s.mu.Lock()
	items, dirs := s.items, s.dirs
	s.items, s.dirs = nil, map[dirKey]*safepath.Dir{}
	s.mu.Unlock()
	defer func() {
		for _, d := range dirs {
			d.Close()
		}
	}()
	if len(items) == 0 {
		return nil
	}
	failed := map[string]error{}
	fail := func(it staged, err error) {
		failed[it.id] = fmt.Errorf("write %s: %w", it.path(), err)
		unix.Unlinkat(it.dir.Fd(), it.tmp, 0)
	}
	// One syncfs per filesystem (by device number).
	synced := map[uint64]error{}
	for _, d := range dirs {
		if _, ok := synced[d.Dev()]; !ok {
			synced[d.Dev()] = syncfs(d)
		}
	}
	byDir := map[string][]staged{}
	for _, it := range items {
		if err := synced[it.dir.Dev()]; err != nil {
			fail(it, err)
			continue
		}
		k := fmt.Sprintf("%d:%d", it.dir.Dev(), it.dir.Ino())
		byDir[k] = append(byDir[k], it)
	}
	// Renames in different directories take different locks: a worker per
	// CPU, each a directory at a time.
	var mu sync.Mutex
	syncErr := map[string]error{}
	inParallel(runtime.GOMAXPROCS(0), byDir, func(k string, its []staged) {
		renamed := false
		for _, it := range its {
			if err := it.dir.Commit(it.tmp, it.base); err != nil {
				mu.Lock()
				fail(it, err)
				mu.Unlock()
				continue
			}
			renamed = true
		}
		if renamed {
			if err := its[0].dir.Sync(); err != nil {
				mu.Lock()
				syncErr[k] = err
				mu.Unlock()
			}
		}
	})
	for k, err := range syncErr {
		for _, it := range byDir[k] {
			if _, ok := failed[it.id]; !ok {
				failed[it.id] = err
			}
		}
	}
	return failed
}

// inParallel calls f for every entry of m, on at most n goroutines. A
// panic in f is raised again in the caller, whose recover (the loop's, in
// PID 1) handles it, once every worker has ended.
func inParallel[V any](n int, m map[string]V, f func(string, V)) {
	type kv struct {
		k string
		v V
	}
	ch := make(chan kv)
	var (
		wg       sync.WaitGroup
		panicked atomic.Value
	)
	for range min(n, len(m)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					panicked.CompareAndSwap(nil, fmt.Sprint(p))
					for range ch { // let the sender finish
					}
				}
			}()
			for e := range ch {
				f(e.k, e.v)
			}
		}()
	}
	for k, v := range m {
		ch <- kv{k, v}
	}
	close(ch)
	wg.Wait()
	if p := panicked.Load(); p != nil {
		panic(p)
	}
}

func syncfs(d *safepath.Dir) error {
	fd, err := unix.Openat(d.Fd(), ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("syncfs %s: %w", d.Path(), err)
	}
	defer unix.Close(fd)
	if err := unix.Syncfs(fd); err != nil {
		return fmt.Errorf("syncfs %s: %w", d.Path(), err)
	}
	return nil
}

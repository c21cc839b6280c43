package cm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

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
	seq   atomic.Uint64 // temp names: .NAME.unit-tmp-PID.START-SEQ
	umask int           // the process umask, -1 if unknown
}

func newStager() *stager { return &stager{umask: readUmask()} }

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
// synced) and queues the rename. Raw syscalls: a regular file gains nothing
// from the runtime's poller, and its setup costs three syscalls per file.
func (s *stager) write(id, path string, data []byte, mode os.FileMode, uid, gid int) (err error) {
	dir, base := filepath.Split(path)
	var fd int
	var tmp string
	// Created with its final permissions when the umask keeps them all and
	// there is no setuid/setgid/sticky bit (which need a chmod after any
	// chown): a first apply then saves a chmod per file.
	want := unixMode(mode)
	perm, chmod := uint32(0o600), true
	if s.umask >= 0 && want&^0o777 == 0 && want&uint32(s.umask) == 0 {
		perm, chmod = want, false
	}
	for {
		tmp = filepath.Join(dir, fmt.Sprintf("%s%d", tempPrefix(base), s.seq.Add(1)))
		fd, err = unix.Open(tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, perm)
		if err != unix.EEXIST {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			unix.Close(fd)
			unix.Unlink(tmp)
			err = fmt.Errorf("write %s: %w", path, err)
		}
	}()
	for b := data; len(b) > 0; {
		n, werr := unix.Write(fd, b)
		if werr != nil {
			return werr
		}
		b = b[n:]
	}
	if uid >= 0 || gid >= 0 {
		var st unix.Stat_t
		if err = unix.Fstat(fd, &st); err != nil {
			return err
		}
		if (uid >= 0 && uint32(uid) != st.Uid) || (gid >= 0 && uint32(gid) != st.Gid) {
			if err = unix.Fchown(fd, uid, gid); err != nil {
				return err
			}
		}
	}
	// After the chown, which clears setuid/setgid.
	if chmod {
		if err = unix.Fchmod(fd, want); err != nil {
			return err
		}
	}
	if err = unix.Close(fd); err != nil {
		return err
	}
	s.mu.Lock()
	s.items = append(s.items, staged{id: id, tmp: tmp, path: path})
	s.mu.Unlock()
	return nil
}

// unixMode converts Go's os.FileMode back to unix permission bits.
func unixMode(m os.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&os.ModeSetuid != 0 {
		u |= unix.S_ISUID
	}
	if m&os.ModeSetgid != 0 {
		u |= unix.S_ISGID
	}
	if m&os.ModeSticky != 0 {
		u |= unix.S_ISVTX
	}
	return u
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
	byDir := map[string][]staged{}
	for _, it := range items {
		dir := filepath.Dir(it.path)
		if err, ok := synced[devOf[dir]]; !ok || err != nil {
			if err == nil {
				err = fmt.Errorf("cannot stat %s", dir)
			}
			fail(it, err)
			continue
		}
		byDir[dir] = append(byDir[dir], it)
	}
	// Renames in different directories take different locks: a worker per
	// CPU, each a directory at a time.
	var mu sync.Mutex
	inParallel(runtime.GOMAXPROCS(0), byDir, func(dir string, its []staged) {
		for _, it := range its {
			if err := os.Rename(it.tmp, it.path); err != nil {
				mu.Lock()
				fail(it, err)
				mu.Unlock()
				continue
			}
			ds.add(dir)
		}
	})
	if err := ds.flush(); err != nil {
		for _, it := range items {
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

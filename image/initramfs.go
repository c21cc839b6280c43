package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// baseEntries is the skeleton every image has: /init (the unit binary),
// /bin/unit pointing at it, the mount points and
// directories PID 1 expects, /dev/console (the kernel opens it for /init's
// stdio before devtmpfs is mounted) and a root-only user database.
func baseEntries(unitBin []byte) []entry {
	es := []entry{
		{Name: "init", Mode: 0o755, Data: unitBin},
		{Name: "bin/unit", Mode: fs.ModeSymlink | 0o777, Data: []byte("/init")},
		{Name: "dev/console", Mode: fs.ModeDevice | fs.ModeCharDevice | 0o600, Major: 5, Minor: 1},
		{Name: "etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/bin/sh\n")},
		{Name: "etc/group", Mode: 0o644, Data: []byte("root:x:0:\n")},
		{Name: "etc/hosts", Mode: 0o644, Data: []byte("127.0.0.1\tlocalhost\n::1\tlocalhost\n")},
		{Name: "tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777},
		{Name: "root", Mode: fs.ModeDir | 0o700},
	}
	for _, d := range []string{"proc", "sys", "dev", "run", "var", "etc", "srv", "mnt"} {
		es = append(es, entry{Name: d, Mode: fs.ModeDir | 0o755})
	}
	return es
}

// configEntries is the system description, in an archive of its own so
// that editing it does not repack the rest.
func configEntries(systemTOML []byte) []entry {
	return []entry{{Name: "etc/unit/system.toml", Mode: 0o644, Data: systemTOML}}
}

// takenPaths are the paths of entries, so busybox applets can stay clear of them.
func takenPaths(es []entry) map[string]bool {
	m := map[string]bool{}
	for _, e := range es {
		m[e.Name] = true
	}
	return m
}

// packer compresses archives with zstd at its level, keeping each in
// cache/zstd under the hash of its inputs (partKey): a rebuild mostly
// packs the same archives, and finds them without writing them.
type packer struct {
	cache   string // the cache directory
	version string // zstd's package version
	comp    compression
}

// pack returns the compressed newc archive of entries.
func (p packer) pack(ctx context.Context, entries []entry, mtime int64) (part, error) {
	args := p.comp.zstdArgs()
	key, err := partKey("initramfs cpio", "zstd "+p.version, args, mtime, entries)
	if err != nil {
		return part{}, fmt.Errorf("cpio: %w", err)
	}
	m := memo{dir: filepath.Join(p.cache, "zstd"), ext: ".zst", keep: zstdCacheKeep}
	if pt, ok := m.lookup(key); ok {
		return pt, nil
	}
	return m.store(key, func(out string) error {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		// The archive streams into zstd: never whole in memory.
		cmd := exec.CommandContext(ctx, "zstd", args...)
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = f, &stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("zstd: %w (install zstd)", err)
		}
		werr := writeCPIO(stdin, entries, mtime)
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("zstd: %w: %s (install zstd)", err, strings.TrimSpace(stderr.String()))
		}
		if werr != nil {
			return werr
		}
		return f.Close()
	})
}

// zstdCacheKeep is how many compressed archives the cache keeps: every
// new unit binary adds one of about 5 MB, every change to the packages one
// of tens of MB.
const zstdCacheKeep = 32

// pruneCache removes all but the keep most recently used files of dir.
func pruneCache(dir string, keep int) {
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) <= keep {
		return
	}
	type file struct {
		path string
		used time.Time
	}
	var files []file
	used := map[string]time.Time{}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue // another build's file being written, or the stamps
		}
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			files = append(files, file{filepath.Join(dir, e.Name()), info.ModTime()})
			used[e.Name()] = info.ModTime()
		}
	}
	// A memo's part counts as used when its record (NAME.sum) was: a
	// lookup touches only the record, so the part's stamp stays.
	for i, f := range files {
		if t, ok := used[filepath.Base(f.path)+".sum"]; ok && t.After(f.used) {
			files[i].used = t
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].used.After(files[j].used) })
	for _, f := range files[min(keep, len(files)):] {
		_ = os.Remove(f.path)
	}
}

// packSegments compresses each list of entries as its own archive, side
// by side. The kernel unpacks an initramfs made of several compressed
// cpio archives one after the other (as it does for early microcode), so
// the segments are simply concatenated, and each one's size is what that
// part of the image costs. An empty list gives an empty segment.
func (p packer) packSegments(ctx context.Context, segs [][]entry, mtime int64) ([]part, error) {
	out := make([]part, len(segs))
	errs := make([]error, len(segs))
	var wg sync.WaitGroup
	for i, es := range segs {
		if len(es) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = p.pack(ctx, es, mtime)
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

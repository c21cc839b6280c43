package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
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

// zstdArgs is the one compressor setting for initramfs images: level 19
// (about 10% smaller than the best level of a Go encoder, measured on the
// unit binary), 4 MiB jobs on all cores, input from stdin. zstd's
// multi-threaded mode gives the same bytes for any number of threads, and
// without a file the frame never records the input size, so the output
// depends only on the input and the zstd version (recorded in the
// manifest). The window (8 MiB at level 19) is what the kernel's unzstd
// allocates at boot.
var zstdArgs = []string{"-q", "-c", "-19", "-T0", "-B4MiB", "-"}

// packer compresses archives, keeping each result in cache/zstd under the
// hash of its input, the arguments and the zstd version: level 19 costs
// seconds for the unit binary, and a rebuild mostly packs the same bytes.
type packer struct {
	cache   string // "" disables the cache
	version string // zstd's package version
}

// pack returns the compressed newc archive of entries.
func (p packer) pack(ctx context.Context, entries []entry, mtime int64) ([]byte, error) {
	var raw bytes.Buffer
	if err := writeCPIO(&raw, entries, mtime); err != nil {
		return nil, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "zstd %s %q\n", p.version, zstdArgs)
	h.Write(raw.Bytes())
	key := filepath.Join(p.cache, "zstd", hex.EncodeToString(h.Sum(nil))+".zst")
	if p.cache != "" {
		if b, err := os.ReadFile(key); err == nil {
			now := time.Now()
			_ = os.Chtimes(key, now, now) // recently used: kept by prune
			return b, nil
		}
	}
	cmd := exec.CommandContext(ctx, "zstd", zstdArgs...)
	cmd.Stdin = &raw
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("zstd: %w: %s (install zstd)", err, strings.TrimSpace(stderr.String()))
	}
	if p.cache != "" {
		// A cache that cannot be written only costs time.
		if err := os.MkdirAll(filepath.Dir(key), 0o755); err == nil {
			_ = writeAtomic(key, out.Bytes(), 0o644)
			pruneCache(filepath.Dir(key), zstdCacheKeep)
		}
	}
	return out.Bytes(), nil
}

// zstdCacheKeep is how many compressed archives the cache keeps: every
// new unit binary adds one of about 5 MB.
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
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue // another build's file being written
		}
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			files = append(files, file{filepath.Join(dir, e.Name()), info.ModTime()})
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
func (p packer) packSegments(ctx context.Context, segs [][]entry, mtime int64) ([][]byte, error) {
	out := make([][]byte, len(segs))
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

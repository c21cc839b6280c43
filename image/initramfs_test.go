package image

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPackCache: a cached archive is the same bytes as a fresh one, at
// each level; the cache is keyed by the inputs (another time stamp or
// level misses); a corrupt entry is found out by its record and made
// again; zstd's output decompresses to the cpio.
func TestPackCache(t *testing.T) {
	if _, err := exec.LookPath("zstd"); err != nil {
		t.Skip("zstd not installed")
	}
	ctx := context.Background()
	es := []entry{{Name: "bin/x", Mode: 0o755, Data: bytes.Repeat([]byte("unit "), 1<<16)}}
	for _, c := range []compression{compressionOf(false, ""), compressionOf(true, "")} {
		cache := t.TempDir()
		p := packer{cache: cache, version: "test", comp: c}
		fresh := readPart(t, must(packer{cache: t.TempDir(), comp: c}.pack(ctx, es, 0)))
		first := readPart(t, must(p.pack(ctx, es, 0)))
		if !bytes.Equal(fresh, first) {
			t.Errorf("%s: two compressions of the same archive differ", c)
		}
		files, _ := filepath.Glob(filepath.Join(cache, "zstd", "*.zst"))
		if len(files) != 1 {
			t.Fatalf("cache holds %v, want one archive", files)
		}
		// A corrupt entry is made again, not taken.
		if err := os.WriteFile(files[0], []byte("cached"), 0o644); err != nil {
			t.Fatal(err)
		}
		if again := readPart(t, must(p.pack(ctx, es, 0))); !bytes.Equal(again, first) {
			t.Errorf("%s: a corrupt cache entry was used", c)
		}
		if other := must(p.pack(ctx, es, 1)); other.SHA256 == must(p.pack(ctx, es, 0)).SHA256 {
			t.Errorf("%s: a different archive (mtime) gave the same part", c)
		}
		var raw bytes.Buffer
		if err := writeCPIO(&raw, es, 0); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("zstd", "-dc")
		cmd.Stdin = bytes.NewReader(fresh)
		out, err := cmd.Output()
		if err != nil || !bytes.Equal(out, raw.Bytes()) {
			t.Errorf("zstd -dc: %v; %d bytes, want the %d-byte cpio", err, len(out), raw.Len())
		}
	}
	fast := readPart(t, must(packer{cache: t.TempDir(), comp: compressionOf(false, "")}.pack(ctx, es, 0)))
	best := readPart(t, must(packer{cache: t.TempDir(), comp: compressionOf(false, "release")}.pack(ctx, es, 0)))
	if bytes.Equal(fast, best) {
		t.Error("the fast and release levels gave the same bytes")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func readPart(t *testing.T, p part) []byte {
	t.Helper()
	b, err := p.bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPruneCache(t *testing.T) {
	dir := t.TempDir()
	base := time.Now().Add(-time.Hour)
	for i, name := range []string{"a.zst", "b.zst", "c.zst", "d.zst", ".d.zst.tmp-1"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		at := base.Add(time.Duration(i) * time.Minute)
		if name == "a.zst" {
			at = base.Add(time.Hour) // used most recently
		}
		os.Chtimes(p, at, at)
	}
	pruneCache(dir, 2)
	var left []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		left = append(left, e.Name())
	}
	if got := strings.Join(left, " "); got != ".d.zst.tmp-1 a.zst d.zst" {
		t.Errorf("left %q, want the two most recently used and the temp file", got)
	}
}

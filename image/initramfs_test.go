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

// TestPackCache: a cached archive is the same bytes as a fresh one, the
// cache is keyed by content, and zstd's output decompresses to the cpio.
func TestPackCache(t *testing.T) {
	if _, err := exec.LookPath("zstd"); err != nil {
		t.Skip("zstd not installed")
	}
	ctx := context.Background()
	es := []entry{{Name: "bin/x", Mode: 0o755, Data: bytes.Repeat([]byte("unit "), 1<<16)}}
	cache := t.TempDir()
	p := packer{cache: cache, version: "test"}
	fresh, err := packer{}.pack(ctx, es, 0)
	if err != nil {
		t.Fatal(err)
	}
	first, err := p.pack(ctx, es, 0)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(cache, "zstd", "*.zst"))
	if len(files) != 1 {
		t.Fatalf("cache holds %v, want one archive", files)
	}
	// A poisoned cache entry is returned as is: the key must be the content.
	if err := os.WriteFile(files[0], []byte("cached"), 0o644); err != nil {
		t.Fatal(err)
	}
	if again, _ := p.pack(ctx, es, 0); string(again) != "cached" {
		t.Error("second pack of the same entries did not use the cache")
	}
	if other, _ := p.pack(ctx, es, 1); string(other) == "cached" {
		t.Error("a different archive (mtime) hit the same cache entry")
	}
	if !bytes.Equal(fresh, first) {
		t.Error("two compressions of the same archive differ")
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

package image

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestPartKeyedByInputs: a part whose inputs are unchanged is found
// without reading a package's file (it is gone, and the part still
// comes); a package file with a new stamp or a changed in-memory file
// misses, and the part made again equals a cold build's.
func TestPartKeyedByInputs(t *testing.T) {
	if _, err := exec.LookPath("zstd"); err != nil {
		t.Skip("zstd not installed")
	}
	ctx := context.Background()
	dir := t.TempDir()
	host := filepath.Join(dir, "lib.so")
	if err := os.WriteFile(host, []byte("library one"), 0o644); err != nil {
		t.Fatal(err)
	}
	list := func() []entry {
		info, err := os.Lstat(host)
		if err != nil {
			t.Fatal(err)
		}
		return []entry{hostEntry("usr/lib/lib.so", host, info), {Name: "etc/unit/system.toml", Mode: 0o644, Data: []byte("a")}}
	}
	p := packer{cache: t.TempDir(), version: "test", comp: compressionOf(false, "")}
	first := must(p.pack(ctx, list(), 0))
	es := list()
	if err := os.Rename(host, host+".away"); err != nil {
		t.Fatal(err)
	}
	if again, err := p.pack(ctx, es, 0); err != nil || again != first {
		t.Fatalf("unchanged inputs: %v %v, want the cached part without reading the file", again, err)
	}
	if err := os.Rename(host+".away", host); err != nil {
		t.Fatal(err)
	}
	es[1].Data = []byte("b")
	if changed := must(p.pack(ctx, es, 0)); changed.SHA256 == first.SHA256 {
		t.Error("a changed config file hit the old part")
	}
	if err := os.WriteFile(host, []byte("library two"), 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	os.Chtimes(host, later, later)
	got := must(p.pack(ctx, list(), 0))
	cold := must(packer{cache: t.TempDir(), version: "test", comp: p.comp}.pack(ctx, list(), 0))
	if got.SHA256 == first.SHA256 || got.SHA256 != cold.SHA256 {
		t.Errorf("a changed package file: %s, first %s, cold %s", got.SHA256, first.SHA256, cold.SHA256)
	}
}

package deb

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLargeXZThroughTool: a data.tar.xz over xzToolMin goes through the
// xz program (when there is one) and gives what dpkg-deb -x gives; a
// stream corrupted in its middle fails the extraction instead of
// leaving a short tree unnoticed.
func TestLargeXZThroughTool(t *testing.T) {
	needDpkgDeb(t)
	src := buildTree(t)
	noise := make([]byte, xzToolMin+(1<<20)) // incompressible: the .xz stays over the bound
	if _, err := rand.Read(noise); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "usr/lib/demo/noise"), noise, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	debPath := filepath.Join(dir, "big.deb")
	dpkgDeb(t, "--root-owner-group", "-Zxz", "--build", src, debPath)
	want := filepath.Join(dir, "want")
	dpkgDeb(t, "-x", debPath, want)
	p, err := Open(debPath)
	if err != nil {
		t.Fatal(err)
	}
	if p.data.size < xzToolMin {
		t.Fatalf("data member %d bytes: under the bound, the test shows nothing", p.data.size)
	}
	r, err := p.tarball(p.data)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.(*xzStream); !ok {
		t.Errorf("a %d-byte data.tar.xz was not decoded by the xz program", p.data.size)
	}
	r.Close()
	got := filepath.Join(dir, "got")
	if err := p.Extract(got); err != nil {
		t.Fatal(err)
	}
	p.Close()
	w, g := walk(t, want), walk(t, got)
	delete(w, ".")
	delete(g, ".")
	compare(t, w, g)

	// Corrupt the middle of the data member.
	data, err := os.ReadFile(debPath)
	if err != nil {
		t.Fatal(err)
	}
	mid := p.data.offset + p.data.size/2
	for i := int64(0); i < 64; i++ {
		data[mid+i] ^= 0xff
	}
	bad := filepath.Join(dir, "bad.deb")
	if err := os.WriteFile(bad, data, 0o644); err != nil {
		t.Fatal(err)
	}
	q, err := Open(bad)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	err = q.Extract(filepath.Join(dir, "bad"))
	if err == nil || !strings.Contains(err.Error(), "xz") {
		t.Fatalf("a corrupt xz stream: %v, want an error from xz", err)
	}
}

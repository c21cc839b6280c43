package update_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/unit-os/unit/update"
)

// partData is a small bundle's content, by part name.
var partData = map[string][]byte{
	update.ImagePart: []byte(`{"release":"git:abc"}`),
	update.UKIPart:   bytes.Repeat([]byte("MZ-uki-"), 300),
	update.RootPart:  bytes.Repeat([]byte("hsqs-root-squashfs-"), 2000),
}

var partNames = []string{update.ImagePart, update.UKIPart, update.RootPart}

// writeParts writes partData to files and returns WriteBundle's map.
func writeParts(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	paths := map[string]string{}
	for name, b := range partData {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths[name] = p
	}
	return paths
}

// goodBundle is a bundle of partData, written by WriteBundle.
func goodBundle(t *testing.T) ([]byte, update.Manifest) {
	t.Helper()
	var buf bytes.Buffer
	m, err := update.WriteBundle(&buf, update.Manifest{Release: "git:abc", Hostname: "h", Kernel: "6.1.0-x", Hardware: "pc"}, writeParts(t))
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), m
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// readBundle reads a bundle the way a machine does, every part to its
// end, and returns the parts' bytes and the first error.
func readBundle(r io.Reader) (map[string][]byte, error) {
	br, err := update.NewReader(r)
	if err != nil {
		return nil, err
	}
	got := map[string][]byte{}
	for {
		p, rd, err := br.Next()
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		b, err := update.ReadPart(p, rd)
		if err != nil {
			return got, err
		}
		got[p.Name] = b
	}
}

func TestBundleRoundTrip(t *testing.T) {
	b, m := goodBundle(t)
	if m.Format != update.BundleFormat || m.Release != "git:abc" || m.Hostname != "h" || m.Kernel != "6.1.0-x" || m.Hardware != "pc" {
		t.Errorf("WriteBundle manifest: %+v", m)
	}
	// Parts are filled in from the files, in the bundle's order.
	var want []update.Part
	for _, name := range partNames {
		want = append(want, update.Part{Name: name, Size: int64(len(partData[name])), SHA256: sum(partData[name])})
	}
	if !slices.Equal(m.Parts, want) {
		t.Errorf("WriteBundle parts:\n%+v\nwant\n%+v", m.Parts, want)
	}

	r, err := update.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Manifest(); got.Release != m.Release || !slices.Equal(got.Parts, want) {
		t.Errorf("Reader.Manifest = %+v, want %+v", got, m)
	}
	for _, name := range partNames {
		p, rd, err := r.Next()
		if err != nil {
			t.Fatalf("Next (%s): %v", name, err)
		}
		if p.Name != name {
			t.Errorf("Next = %s, want %s", p.Name, name)
		}
		got, err := io.ReadAll(rd)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got, partData[name]) {
			t.Errorf("%s: read %d bytes that differ from the %d written", name, len(got), len(partData[name]))
		}
	}
	// After the last part, and again after that.
	for range 2 {
		if p, rd, err := r.Next(); err != io.EOF || rd != nil {
			t.Errorf("Next after the last part = %+v, %v, %v: want io.EOF", p, rd, err)
		}
	}
}

func TestBundleReproducible(t *testing.T) {
	a, _ := goodBundle(t)
	b, _ := goodBundle(t) // other files, same contents
	if !bytes.Equal(a, b) {
		t.Error("two bundles of the same inputs differ")
	}
}

func TestWriteBundleMissingPart(t *testing.T) {
	paths := writeParts(t)
	delete(paths, update.RootPart)
	if _, err := update.WriteBundle(io.Discard, update.Manifest{}, paths); err == nil {
		t.Error("WriteBundle without a root: no error")
	}
	paths = writeParts(t)
	paths[update.UKIPart] = filepath.Join(t.TempDir(), "missing.efi")
	if _, err := update.WriteBundle(io.Discard, update.Manifest{}, paths); err == nil {
		t.Error("WriteBundle of a missing file: no error")
	}
}

// rootData is where the root's bytes are in a bundle from goodBundle.
func rootData(t *testing.T, b []byte) int {
	t.Helper()
	root := partData[update.RootPart]
	i := bytes.Index(b, root)
	if i < 0 || bytes.Index(b[i+1:], root) >= 0 {
		t.Fatal("cannot find the root's bytes in the bundle (exactly once)")
	}
	return i
}

func TestBundleAlteredRoot(t *testing.T) {
	b, _ := goodBundle(t)
	b[rootData(t, b)+len(partData[update.RootPart])/2] ^= 1
	r, err := update.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range partNames {
		p, rd, err := r.Next()
		if err != nil {
			t.Fatalf("Next (%s): %v", name, err)
		}
		got, err := io.ReadAll(rd)
		if name != update.RootPart {
			if err != nil {
				t.Errorf("%s (unaltered): %v", name, err)
			}
			continue
		}
		// The root reads whole, and its end is an error.
		if !errors.Is(err, update.ErrMismatch) {
			t.Errorf("altered root: error %v, want one wrapping ErrMismatch", err)
		}
		if int64(len(got)) != p.Size {
			t.Errorf("altered root: the error came after %d of %d bytes, want at the end", len(got), p.Size)
		}
	}
}

func TestBundleTruncated(t *testing.T) {
	b, _ := goodBundle(t)
	root := rootData(t, b)
	uki := bytes.Index(b, partData[update.UKIPart])
	head := bytes.Index(b, []byte(`"format"`))
	if uki < 0 || head < 0 {
		t.Fatal("cannot find the UKI or the bundle manifest in the bundle")
	}
	for name, cut := range map[string]int{
		"in the root":              root + len(partData[update.RootPart])/2,
		"one byte short":           root + len(partData[update.RootPart]) - 1,
		"at the root's start":      root,
		"in the root's tar header": root - 100,
		"in the UKI":               uki + 10,
		"in the bundle manifest":   head + 5,
	} {
		if _, err := readBundle(bytes.NewReader(b[:cut])); err == nil {
			t.Errorf("bundle cut %s (at %d of %d bytes): no error", name, cut, len(b))
		}
	}
}

// member is one file of a hand-made tar.
type member struct {
	name string
	data []byte
	size int64 // the header's size; -1: len(data)
	typ  byte  // 0: tar.TypeReg
}

// makeTar writes members as a tar, whatever they say.
func makeTar(t *testing.T, ms ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range ms {
		h := &tar.Header{Name: m.name, Size: m.size, Mode: 0o644, Typeflag: m.typ}
		if m.size < 0 {
			h.Size = int64(len(m.data))
		}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeCont {
			continue // a header with a size, and no data
		}
		if _, err := tw.Write(m.data); err != nil && h.Size >= int64(len(m.data)) {
			t.Fatal(err)
		}
	}
	// A member shorter than its header cannot be closed; the bytes so
	// far are the point.
	tw.Flush()
	tw.Close()
	return buf.Bytes()
}

// goodManifest is the bundle manifest of partData.
func goodManifest() update.Manifest {
	m := update.Manifest{Format: update.BundleFormat, Release: "git:abc"}
	for _, name := range partNames {
		m.Parts = append(m.Parts, update.Part{Name: name, Size: int64(len(partData[name])), SHA256: sum(partData[name])})
	}
	return m
}

// hostile is a bundle with manifest m (edited) and members ms (edited),
// by default partData's.
func hostile(t *testing.T, editM func(*update.Manifest), editMs func([]member) []member) []byte {
	t.Helper()
	m := goodManifest()
	if editM != nil {
		editM(&m)
	}
	head, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	ms := []member{{name: update.ManifestPart, data: head, size: -1}}
	for _, name := range partNames {
		ms = append(ms, member{name: name, data: partData[name], size: -1})
	}
	if editMs != nil {
		ms = editMs(ms)
	}
	return makeTar(t, ms...)
}

func TestBundleRefuses(t *testing.T) {
	// The hand-made bundle without edits is fine: the refusals below are
	// the edits'.
	if got, err := readBundle(bytes.NewReader(hostile(t, nil, nil))); err != nil || !bytes.Equal(got[update.RootPart], partData[update.RootPart]) {
		t.Fatalf("unedited hand-made bundle: %v", err)
	}
	part := func(name string) int { return slices.Index(partNames, name) }
	setPart := func(name string, f func(*update.Part)) func(*update.Manifest) {
		return func(m *update.Manifest) { f(&m.Parts[part(name)]) }
	}
	for _, tc := range []struct {
		name     string
		b        []byte
		mismatch bool // the error must wrap ErrMismatch
	}{
		{"empty input", nil, false},
		{"not a tar", []byte(strings.Repeat("not a tar ", 200)), false},
		{"first member not the manifest", makeTar(t,
			member{name: update.ImagePart, data: partData[update.ImagePart], size: -1},
			member{name: update.ManifestPart, data: []byte("{}"), size: -1}), false},
		// A contiguous file ('7') has data like a regular one: only its
		// type is wrong.
		{"manifest not a regular file", hostile(t, nil, func(ms []member) []member {
			ms[0].typ = tar.TypeCont
			return ms
		}), false},
		{"manifest a symbolic link", hostile(t, nil, func(ms []member) []member {
			ms[0].typ = tar.TypeSymlink
			return ms
		}), false},
		{"manifest empty", makeTar(t, member{name: update.ManifestPart, size: -1}), false},
		{"manifest not json", makeTar(t, member{name: update.ManifestPart, data: []byte("format: unit-update/1"), size: -1}), false},
		{"wrong format", hostile(t, func(m *update.Manifest) { m.Format = "unit-update/2" }, nil), false},
		{"no format", hostile(t, func(m *update.Manifest) { m.Format = "" }, nil), false},
		{"parts out of order", hostile(t, func(m *update.Manifest) { m.Parts[0], m.Parts[1] = m.Parts[1], m.Parts[0] }, nil), false},
		{"part missing", hostile(t, func(m *update.Manifest) { m.Parts = m.Parts[:2] }, nil), false},
		{"part twice", hostile(t, func(m *update.Manifest) { m.Parts = append(m.Parts, m.Parts[2]) }, nil), false},
		{"no parts", hostile(t, func(m *update.Manifest) { m.Parts = nil }, nil), false},
		// An empty part, consistent with its member and hash: refused by
		// size alone.
		{"size 0", hostile(t, setPart(update.UKIPart, func(p *update.Part) { p.Size, p.SHA256 = 0, sum(nil) }), func(ms []member) []member {
			ms[2].data = nil
			return ms
		}), false},
		{"size negative", hostile(t, setPart(update.RootPart, func(p *update.Part) { p.Size = -1 }), nil), false},
		// The limits: 16 MiB for the build manifest, 512 MiB for the UKI,
		// 1 TiB for the root.
		{"build manifest over its limit", hostile(t, setPart(update.ImagePart, func(p *update.Part) { p.Size = 16<<20 + 1 }), nil), false},
		{"UKI over its limit", hostile(t, setPart(update.UKIPart, func(p *update.Part) { p.Size = 512<<20 + 1 }), nil), false},
		{"root over its limit", hostile(t, setPart(update.RootPart, func(p *update.Part) { p.Size = 1<<40 + 1 }), nil), false},
		{"sha256 short", hostile(t, setPart(update.RootPart, func(p *update.Part) { p.SHA256 = p.SHA256[:63] }), nil), false},
		{"sha256 long", hostile(t, setPart(update.RootPart, func(p *update.Part) { p.SHA256 += "00" }), nil), false},
		{"sha256 not hex", hostile(t, setPart(update.RootPart, func(p *update.Part) { p.SHA256 = strings.Repeat("g", 64) }), nil), false},
		{"sha256 empty", hostile(t, setPart(update.UKIPart, func(p *update.Part) { p.SHA256 = "" }), nil), false},
		{"member larger than the manifest says", hostile(t, nil, func(ms []member) []member {
			ms[3].data = append(slices.Clone(ms[3].data), 'x')
			return ms
		}), true},
		{"member smaller than the manifest says", hostile(t, nil, func(ms []member) []member {
			ms[2].data = ms[2].data[:len(ms[2].data)-1]
			return ms
		}), true},
		{"member with other bytes", hostile(t, nil, func(ms []member) []member {
			ms[3].data = bytes.ToUpper(ms[3].data)
			return ms
		}), true},
		{"members out of order", hostile(t, nil, func(ms []member) []member {
			ms[2], ms[3] = ms[3], ms[2]
			return ms
		}), false},
		{"member not a regular file", hostile(t, nil, func(ms []member) []member {
			ms[1].typ = tar.TypeCont
			return ms
		}), false},
		{"member a symbolic link", hostile(t, nil, func(ms []member) []member {
			ms[1].typ = tar.TypeSymlink
			return ms
		}), false},
		{"last member missing", hostile(t, nil, func(ms []member) []member { return ms[:3] }), false},
		{"member shorter than its header", hostile(t, nil, func(ms []member) []member {
			ms[3].data = ms[3].data[:100]
			ms[3].size = int64(len(partData[update.RootPart]))
			return ms[:4]
		}), false},
	} {
		_, err := readBundle(bytes.NewReader(tc.b))
		switch {
		case err == nil:
			t.Errorf("%s: accepted", tc.name)
		case tc.mismatch && !errors.Is(err, update.ErrMismatch):
			t.Errorf("%s: error %v, want one wrapping ErrMismatch", tc.name, err)
		}
	}
}

// TestBundleID: a bundle's id is the sha256 of its manifest member, so it
// names every part; another part's bytes give another id.
func TestBundleID(t *testing.T) {
	b, _ := goodBundle(t)
	r, err := update.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(b))
	if _, err := tr.Next(); err != nil {
		t.Fatal(err)
	}
	head, _ := io.ReadAll(tr)
	if r.ID() != "sha256:"+sum(head) {
		t.Errorf("id %s, want sha256 of the manifest member %s", r.ID(), sum(head))
	}
	paths := writeParts(t)
	if err := os.WriteFile(paths[update.RootPart], []byte("another root"), 0o644); err != nil {
		t.Fatal(err)
	}
	var other bytes.Buffer
	if _, err := update.WriteBundle(&other, update.Manifest{Release: "git:abc", Hostname: "h", Kernel: "6.1.0-x", Hardware: "pc"}, paths); err != nil {
		t.Fatal(err)
	}
	r2, err := update.NewReader(&other)
	if err != nil || r2.ID() == r.ID() {
		t.Errorf("another root, same id %s (%v)", r.ID(), err)
	}
}

package update

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"slices"
	"time"
)

// An update bundle is an uncompressed tar (its big part, the root, is a
// compressed squashfs already) that a machine reads front to back, so it
// can stream from a file or an http body straight into a slot:
//
//	unit-update.json  the bundle manifest: each part's name, size, sha256
//	manifest.json     the image's build manifest
//	unit.efi          the unified kernel image (names slot a's root)
//	root.squashfs     the root file system
//
// Every part is checked against the bundle manifest while it is read; a
// part that does not match is an error at its end, before anything is
// made bootable.
const (
	BundleFormat = "unit-update/1"
	BundleName   = "update.tar" // in a build's output directory
	ManifestPart = "unit-update.json"
	ImagePart    = "manifest.json"
	UKIPart      = "unit.efi"
	RootPart     = "root.squashfs"
)

// partOrder is the order of the parts after the bundle manifest.
var partOrder = []string{ImagePart, UKIPart, RootPart}

// Limits on what a machine reads into memory or accepts at all.
const (
	maxManifest = 1 << 20
	maxImage    = 16 << 20  // the build manifest
	maxUKI      = 512 << 20 // kernel + initramfs
	maxRoot     = 1 << 40
)

// Manifest is the bundle manifest.
type Manifest struct {
	Format   string `json:"format"`
	Release  string `json:"release"`
	Hostname string `json:"hostname"`
	Kernel   string `json:"kernel"`
	Hardware string `json:"hardware"`
	Parts    []Part `json:"parts"`
}

// Part is one file of the bundle.
type Part struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Part returns the named part's entry.
func (m Manifest) Part(name string) (Part, bool) {
	for _, p := range m.Parts {
		if p.Name == name {
			return p, true
		}
	}
	return Part{}, false
}

// WriteBundle writes a bundle to w from the files named by paths (part
// name to file). m's Parts are filled in from the files. The bytes
// depend only on the inputs: fixed times, owners and modes.
func WriteBundle(w io.Writer, m Manifest, paths map[string]string) (Manifest, error) {
	m.Format = BundleFormat
	m.Parts = nil
	for _, name := range partOrder {
		path, ok := paths[name]
		if !ok {
			return m, fmt.Errorf("bundle: no %s", name)
		}
		sum, size, err := fileSum(path)
		if err != nil {
			return m, fmt.Errorf("bundle: %w", err)
		}
		m.Parts = append(m.Parts, Part{Name: name, Size: size, SHA256: sum})
	}
	head, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, err
	}
	tw := tar.NewWriter(w)
	hdr := func(name string, size int64) *tar.Header {
		return &tar.Header{Name: name, Size: size, Mode: 0o644, Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
	}
	if err := tw.WriteHeader(hdr(ManifestPart, int64(len(head)))); err != nil {
		return m, err
	}
	if _, err := tw.Write(head); err != nil {
		return m, err
	}
	for _, p := range m.Parts {
		if err := tw.WriteHeader(hdr(p.Name, p.Size)); err != nil {
			return m, err
		}
		f, err := os.Open(paths[p.Name])
		if err != nil {
			return m, fmt.Errorf("bundle: %w", err)
		}
		n, err := io.Copy(tw, f)
		f.Close()
		if err != nil {
			return m, fmt.Errorf("bundle: %s: %w", p.Name, err)
		}
		if n != p.Size {
			return m, fmt.Errorf("bundle: %s changed while being written", p.Name)
		}
	}
	return m, tw.Close()
}

func fileSum(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// Reader reads a bundle front to back.
type Reader struct {
	tr   *tar.Reader
	m    Manifest
	id   string
	next int
}

// NewReader reads and checks the bundle manifest, the first member.
func NewReader(r io.Reader) (*Reader, error) {
	tr := tar.NewReader(r)
	h, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("bundle: not a tar: %w", err)
	}
	if h.Name != ManifestPart || h.Typeflag != tar.TypeReg || h.Size <= 0 || h.Size > maxManifest {
		return nil, fmt.Errorf("bundle: starts with %q (%d bytes): want %s of at most %d bytes", h.Name, h.Size, ManifestPart, maxManifest)
	}
	b, err := io.ReadAll(io.LimitReader(tr, maxManifest))
	if err != nil {
		return nil, fmt.Errorf("bundle: %s: %w", ManifestPart, err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("bundle: %s: %w", ManifestPart, err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("bundle: %s: %w", ManifestPart, err)
	}
	sum := sha256.Sum256(b)
	return &Reader{tr: tr, m: m, id: "sha256:" + hex.EncodeToString(sum[:])}, nil
}

// ID names the bundle: the sha256 of its manifest, which names every
// part's sha256 in turn. `unit update --sha256` pins it, so a bundle
// fetched over plain http is the one that was built.
func (r *Reader) ID() string { return r.id }

func (m Manifest) check() error {
	if m.Format != BundleFormat {
		return fmt.Errorf("format %q: want %q", m.Format, BundleFormat)
	}
	names := make([]string, len(m.Parts))
	for i, p := range m.Parts {
		names[i] = p.Name
	}
	if !slices.Equal(names, partOrder) {
		return fmt.Errorf("parts %q: want %q", names, partOrder)
	}
	limits := map[string]int64{ImagePart: maxImage, UKIPart: maxUKI, RootPart: maxRoot}
	for _, p := range m.Parts {
		if p.Size <= 0 || p.Size > limits[p.Name] {
			return fmt.Errorf("%s: size %d: want 1 to %d bytes", p.Name, p.Size, limits[p.Name])
		}
		if b, err := hex.DecodeString(p.SHA256); err != nil || len(b) != sha256.Size {
			return fmt.Errorf("%s: sha256 %q: want 64 hex digits", p.Name, p.SHA256)
		}
	}
	return nil
}

// Manifest is the bundle's manifest.
func (r *Reader) Manifest() Manifest { return r.m }

// ErrMismatch is a part whose bytes are not what the manifest says.
var ErrMismatch = errors.New("does not match the bundle manifest")

// Next moves to the next part and returns it with a reader of its bytes
// that fails at the end, with ErrMismatch, when they are not the
// manifest's (short, long or with another sha256).
func (r *Reader) Next() (Part, io.Reader, error) {
	if r.next >= len(r.m.Parts) {
		return Part{}, nil, io.EOF
	}
	p := r.m.Parts[r.next]
	r.next++
	h, err := r.tr.Next()
	if err != nil {
		return p, nil, fmt.Errorf("bundle: %s: %w", p.Name, err)
	}
	if h.Name != p.Name {
		return p, nil, fmt.Errorf("bundle: found %q where %s should be", h.Name, p.Name)
	}
	if h.Typeflag != tar.TypeReg {
		return p, nil, fmt.Errorf("bundle: %s is not a regular file (tar type %q)", p.Name, h.Typeflag)
	}
	if h.Size != p.Size {
		return p, nil, fmt.Errorf("bundle: %s is %d bytes, the manifest says %d: %w", p.Name, h.Size, p.Size, ErrMismatch)
	}
	return p, &verifier{r: r.tr, p: p, h: sha256.New()}, nil
}

// ReadPart reads a small part whole.
func ReadPart(p Part, rd io.Reader) ([]byte, error) {
	b, err := io.ReadAll(rd)
	if errors.Is(err, ErrMismatch) {
		return nil, err // says which part already
	}
	if err != nil {
		return nil, fmt.Errorf("bundle: %s: %w", p.Name, err)
	}
	return b, nil
}

// verifier hashes a part as it is read and checks it at its end.
type verifier struct {
	r io.Reader
	p Part
	h hash.Hash
	n int64
}

func (v *verifier) Read(b []byte) (int, error) {
	n, err := v.r.Read(b)
	v.h.Write(b[:n])
	v.n += int64(n)
	if errors.Is(err, io.EOF) {
		if v.n != v.p.Size {
			return n, fmt.Errorf("bundle: %s ended after %d of %d bytes: %w", v.p.Name, v.n, v.p.Size, ErrMismatch)
		}
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.p.SHA256 {
			return n, fmt.Errorf("bundle: %s has sha256 %s, the manifest says %s: %w", v.p.Name, got, v.p.SHA256, ErrMismatch)
		}
	}
	return n, err
}

package pkgbuild

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/unit-os/unit/safepath"
)

// SourceID is what a source resolved to: enough to know, before anything is
// downloaded, whether a keg built from it already exists. It goes into the
// keg hash and the keg's metadata.
type SourceID struct {
	Kind    string    `json:"kind"`
	Name    string    `json:"name"`              // package, module@version, url or local dir
	Version string    `json:"version,omitempty"` // resolved Debian or module version
	Files   []FileSum `json:"files,omitempty"`   // every downloaded file and its sha256
	Sum     string    `json:"sum,omitempty"`     // local: tree hash; gomod: the go.sum h1: hash
}

// FileSum is one file of a source and its sha256.
type FileSum struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// resolve finds what a recipe's sources are now, cheaply: apt's indexes, the
// module cache's metadata, a hash of a local tree. A pinned sha256 that
// does not match is an error at the recipe's line.
func (b *Builder) resolve(ctx context.Context, r *Recipe, lock *Lock) ([]SourceID, error) {
	ids := make([]SourceID, len(r.Sources))
	for i, s := range r.Sources {
		var id SourceID
		var err error
		switch s.Kind() {
		case "local":
			id, err = resolveLocal(r, s)
		case "url":
			id = SourceID{Kind: "url", Name: s.URL, Files: []FileSum{{Name: filepath.Base(s.URL), SHA256: s.SHA256}}}
		case "gomod":
			id, err = b.resolveGoMod(ctx, s)
		case "deb":
			if s.WithDeps() {
				id = debSourceID(*lock.top()) // the lock pins it
				break
			}
			var d DebInfo
			d, err = b.debPin(ctx, r, i) // the lock pins it too: no apt call
			id = debSourceID(d)
		case "debian-source":
			state := append([]string{filepath.Join(b.aptSrcDir(), "lists")}, aptState...)
			id, err = b.memoResolve(s, state, func() (SourceID, error) { return b.resolveDebianSource(ctx, s) })
		}
		if err != nil {
			return nil, r.errorf([]string{"source", strconv.Itoa(i)}, "source %d (%s): %v", i+1, s.Kind(), err)
		}
		ids[i] = id
	}
	return ids, nil
}

// fetch puts source i into place: under src (the build's source tree) or,
// for Debian binary packages, into out (the keg). Every download is checked
// against the sha256 in id before it is used or cached.
func (b *Builder) fetch(ctx context.Context, r *Recipe, keg *Keg, i int, id SourceID, src, out string) error {
	s := r.Sources[i]
	var err error
	switch s.Kind() {
	case "local":
		err = copyTree(filepath.Join(filepath.Dir(r.File), s.Local), filepath.Join(src, s.Dest))
	case "url":
		err = b.fetchURL(ctx, s, filepath.Join(src, s.Dest))
	case "gomod":
		// Already in the module cache (resolve fetched it); the build reads it there.
	case "deb":
		if s.WithDeps() {
			err = b.unpackDeb(ctx, keg.Deb, LockPath(r.File), r.Name, filepath.Join(out, s.Dest))
			break
		}
		err = b.fetchDeb(ctx, id, filepath.Join(out, s.Dest))
	case "debian-source":
		err = b.fetchDebianSource(ctx, id, filepath.Join(src, s.Dest))
	}
	if err != nil {
		return r.errorf([]string{"source", strconv.Itoa(i)}, "source %d (%s): %v", i+1, s.Kind(), err)
	}
	return nil
}

// cached returns the path of a download in the sha256-keyed source cache,
// fetching it with get (into a temp file in the cache) if it is missing. A
// download whose hash differs is reported and never cached.
func (b *Builder) cached(sum, label string, get func(tmp string) error) (string, error) {
	dir := filepath.Join(b.cache, "sources")
	p := filepath.Join(dir, sum)
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(dir, ".tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	f := filepath.Join(tmp, "file")
	if err := get(f); err != nil {
		return "", err
	}
	got, err := FileSHA256(f)
	if err != nil {
		return "", err
	}
	if got != sum {
		return "", fmt.Errorf("%s: sha256 mismatch: downloaded %s, expected %s", label, got, sum)
	}
	if err := safepath.Rename(f, p, safepath.Trusted()); err != nil {
		return "", err
	}
	return p, nil
}

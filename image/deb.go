package image

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/unit-os/unit/pkgbuild"
)

// Package is one Debian binary package at an exact version.
type Package struct {
	Name    string `json:"package"`
	Version string `json:"version"`
	// SHA256 is the .deb's hash as apt's index publishes it (manifest only).
	SHA256 string `json:"sha256,omitempty"`
	// For kegs of [system] packages: the keg's hash and its path in the
	// store (NAME/VERSION-HASH), and the sources it was built from with
	// their resolved versions and file hashes.
	KegHash string              `json:"keg_hash,omitempty"`
	Keg     string              `json:"keg,omitempty"`
	Sources []pkgbuild.SourceID `json:"sources,omitempty"`
}

// debSHA256 asks apt's index for the SHA-256 of the .deb of p, or "" when
// the index no longer has that version. The answer is kept in
// cache/debsha256 (a version's .deb never changes in the archive), so a
// warm build asks apt nothing.
func debSHA256(ctx context.Context, cache string, p Package) string {
	memo := filepath.Join(cache, "debsha256", cacheName(p.Name)+"="+cacheName(p.Version))
	if b, err := os.ReadFile(memo); err == nil && len(bytes.TrimSpace(b)) == 64 {
		return string(bytes.TrimSpace(b))
	}
	out, err := run(ctx, "", "apt-cache", "show", p.Name+"="+p.Version)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "SHA256:"); ok {
			v = strings.TrimSpace(v)
			if len(v) == 64 && os.MkdirAll(filepath.Dir(memo), 0o755) == nil {
				_ = writeAtomic(memo, []byte(v+"\n"), 0o644) // a cache that cannot be written only costs time
			}
			return v
		}
	}
	return ""
}

// run runs a command and returns its stdout; on failure the error carries
// the command's stderr, which is where apt explains itself.
func run(ctx context.Context, dir string, name string, args ...string) ([]byte, error) {
	return runWith(ctx, dir, nil, name, args...)
}

// runWith is run with extra environment variables.
func runWith(ctx context.Context, dir string, env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	// The same bytes whatever the builder's locale and time zone (FAT
	// timestamps are local time).
	cmd.Env = append(append(os.Environ(), "LC_ALL=C", "TZ=UTC"), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			return nil, fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
		}
		return nil, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, msg)
	}
	return stdout.Bytes(), nil
}

// candidate asks apt which version of pkg it would install.
func candidate(ctx context.Context, pkg string) (Package, error) {
	out, err := run(ctx, "", "apt-cache", "policy", pkg)
	if err != nil {
		return Package{}, fmt.Errorf("resolve %s: %w", pkg, err)
	}
	v, err := pkgbuild.ParseCandidate(out)
	if err != nil {
		return Package{}, fmt.Errorf("resolve %s: %w", pkg, err)
	}
	return Package{Name: pkg, Version: v}, nil
}

// cacheName makes a version safe and readable as a directory name, the way
// apt names .deb files ("1:1.35" → "1%3a1.35").
func cacheName(s string) string { return strings.ReplaceAll(s, ":", "%3a") }

// extractDeb returns dir, populating it first if needed: the package is
// downloaded with apt-get (apt's own configuration picks the mirror),
// unpacked with dpkg-deb, handed to prepare, and only then renamed into
// place, so an interrupted build never leaves a half-filled cache entry.
func extractDeb(ctx context.Context, log *slog.Logger, p Package, dir string, prepare func(root string) error) error {
	if _, err := os.Stat(dir); err == nil {
		log.Debug("cached", "package", p.Name, "version", p.Version, "dir", dir)
		return nil
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("cache %s: %w", p.Name, err)
	}
	tmp, err := os.MkdirTemp(parent, ".tmp-"+filepath.Base(dir)+"-")
	if err != nil {
		return fmt.Errorf("cache %s: %w", p.Name, err)
	}
	defer os.RemoveAll(tmp)

	log.Info("downloading", "package", p.Name, "version", p.Version)
	// apt-get download writes into its working directory. As root it warns
	// that the _apt sandbox user cannot write there; that is harmless.
	if _, err := run(ctx, tmp, "apt-get", "download", "-q", p.Name+"="+p.Version); err != nil {
		return fmt.Errorf("download %s: %w", p.Name, err)
	}
	debs, err := filepath.Glob(filepath.Join(tmp, "*.deb"))
	if err != nil || len(debs) != 1 {
		return fmt.Errorf("download %s: expected one .deb in %s, found %d", p.Name, tmp, len(debs))
	}
	root := filepath.Join(tmp, "root")
	if _, err := run(ctx, "", "dpkg-deb", "-x", debs[0], root); err != nil {
		return fmt.Errorf("extract %s: %w", p.Name, err)
	}
	if prepare != nil {
		if err := prepare(root); err != nil {
			return fmt.Errorf("prepare %s: %w", p.Name, err)
		}
	}
	if err := os.Rename(root, dir); err != nil {
		// Another build may have filled the same entry meanwhile; that is fine.
		if _, serr := os.Stat(dir); serr == nil {
			return nil
		}
		return fmt.Errorf("cache %s: %w", p.Name, err)
	}
	return nil
}

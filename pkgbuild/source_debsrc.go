package pkgbuild

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// aptSrc is a throwaway apt configuration: the machine's own sources with
// deb-src added, and lists of its own, so the host's apt state is never
// touched. Its files live under <cache>/apt-src.
func (b *Builder) aptSrcDir() string { return filepath.Join(b.cache, "apt-src") }

func (b *Builder) aptSrcOpts() []string {
	d := b.aptSrcDir()
	return []string{
		"-o", "Dir::Etc::SourceList=" + filepath.Join(d, "sources.list"),
		"-o", "Dir::Etc::SourceParts=" + filepath.Join(d, "sources.list.d"),
		"-o", "Dir::State::Lists=" + filepath.Join(d, "lists"),
		"-o", "Dir::Cache=" + filepath.Join(d, "cache"),
		"-o", "Dir::Cache::pkgcache=pkgcache.bin",
		"-o", "Dir::Cache::srcpkgcache=srcpkgcache.bin",
	}
}

// aptSrcUpdate writes the configuration from /etc/apt and fetches the
// source indexes (signed Release files checked by apt, as for binaries).
func (b *Builder) aptSrcUpdate(ctx context.Context) error {
	d := b.aptSrcDir()
	for _, sub := range []string{"sources.list.d", "lists/partial", "cache/archives/partial"} {
		if err := os.MkdirAll(filepath.Join(d, sub), 0o755); err != nil {
			return err
		}
	}
	list, parts, err := debSrcConfig("/etc/apt")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(d, "sources.list"), []byte(list), 0o644); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(d, "sources.list.d", "*"))
	for _, o := range old {
		os.Remove(o)
	}
	for name, text := range parts {
		if err := os.WriteFile(filepath.Join(d, "sources.list.d", name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	_, err = run(ctx, "", nil, "apt-get", append([]string{"-q"}, append(b.aptSrcOpts(), "update")...)...)
	return err
}

// debSrcConfig reads the enabled apt sources (sources.list, *.list and
// *.sources in sources.list.d) and turns every "deb" entry into "deb-src".
func debSrcConfig(etc string) (string, map[string]string, error) {
	var list strings.Builder
	conv := func(text string) string {
		var out strings.Builder
		for _, line := range strings.Split(text, "\n") {
			t := strings.TrimSpace(line)
			if rest, ok := strings.CutPrefix(t, "deb "); ok {
				out.WriteString("deb-src " + rest + "\n")
			}
		}
		return out.String()
	}
	if data, err := os.ReadFile(filepath.Join(etc, "sources.list")); err == nil {
		list.WriteString(conv(string(data)))
	}
	parts := map[string]string{}
	lists, _ := filepath.Glob(filepath.Join(etc, "sources.list.d", "*.list"))
	for _, p := range lists {
		data, err := os.ReadFile(p)
		if err != nil {
			return "", nil, err
		}
		list.WriteString(conv(string(data)))
	}
	srcs, _ := filepath.Glob(filepath.Join(etc, "sources.list.d", "*.sources"))
	for _, p := range srcs {
		data, err := os.ReadFile(p)
		if err != nil {
			return "", nil, err
		}
		var out []string
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "Types") {
				if strings.Contains(" "+v+" ", " deb ") {
					line = "Types: deb-src"
				}
			}
			out = append(out, line)
		}
		parts[filepath.Base(p)] = strings.Join(out, "\n")
	}
	if list.Len() == 0 && len(parts) == 0 {
		return "", nil, fmt.Errorf("no apt sources in %s", etc)
	}
	return list.String(), parts, nil
}

// resolveDebianSource finds a source package's files and their sha256 in
// the source index; the index is fetched on first use and again when the
// wanted version is not in it.
func (b *Builder) resolveDebianSource(ctx context.Context, s Source) (SourceID, error) {
	// One process at a time: apt-get update refuses a locked lists dir, and
	// a test run may build in several processes at once.
	b.aptMu.Lock()
	defer b.aptMu.Unlock()
	unlock, err := flockFile(filepath.Join(b.aptSrcDir(), ".unit-lock"))
	if err != nil {
		return SourceID{}, err
	}
	defer unlock()
	lists, _ := filepath.Glob(filepath.Join(b.aptSrcDir(), "lists", "*Sources*"))
	updated := false
	if len(lists) == 0 {
		if err := b.aptSrcUpdate(ctx); err != nil {
			return SourceID{}, err
		}
		updated = true
	}
	for {
		id, err := b.findSource(ctx, s)
		if err == nil || updated {
			return id, err
		}
		if err := b.aptSrcUpdate(ctx); err != nil {
			return SourceID{}, err
		}
		updated = true
	}
}

func (b *Builder) findSource(ctx context.Context, s Source) (SourceID, error) {
	out, err := run(ctx, "", nil, "apt-cache", append(b.aptSrcOpts(), "showsrc", "--only-source", s.DebianSource)...)
	if err != nil {
		return SourceID{}, err
	}
	var best map[string]string
	for _, st := range stanzas(out) {
		if st["Package"] != s.DebianSource {
			continue
		}
		if s.Version != Candidate {
			if st["Version"] == s.Version {
				best = st
				break
			}
			continue
		}
		if best == nil || versionGreater(ctx, st["Version"], best["Version"]) {
			best = st
		}
	}
	if best == nil {
		return SourceID{}, fmt.Errorf("no source package %s version %s in the apt sources", s.DebianSource, s.Version)
	}
	id := SourceID{Kind: "debian-source", Name: s.DebianSource, Version: best["Version"]}
	for _, line := range strings.Split(best["Checksums-Sha256"], "\n") {
		f := strings.Fields(line)
		if len(f) == 3 {
			id.Files = append(id.Files, FileSum{Name: f[2], SHA256: f[0]})
		}
	}
	var dsc string
	for _, f := range id.Files {
		if strings.HasSuffix(f.Name, ".dsc") {
			dsc = f.SHA256
		}
	}
	if dsc == "" {
		return SourceID{}, fmt.Errorf("source package %s %s: no .dsc in Checksums-Sha256", s.DebianSource, id.Version)
	}
	if s.SHA256 != "" && s.SHA256 != dsc {
		return SourceID{}, fmt.Errorf("%s %s: sha256 mismatch: the .dsc is %s, recipe says %s", s.DebianSource, id.Version, dsc, s.SHA256)
	}
	return id, nil
}

func versionGreater(ctx context.Context, a, b string) bool {
	_, err := run(ctx, "", nil, "dpkg", "--compare-versions", a, "gt", b)
	return err == nil
}

// fetchDebianSource downloads the .dsc, the upstream tarball and Debian's
// changes (apt-get source --download-only; every file's sha256 checked
// against the index) and unpacks them with Debian's patches applied.
func (b *Builder) fetchDebianSource(ctx context.Context, id SourceID, dst string) error {
	work, err := os.MkdirTemp(filepath.Dir(dst), ".debsrc-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	var dsc string
	var downloaded string
	for _, f := range id.Files {
		p, err := b.cached(f.SHA256, f.Name, func(tmp string) error {
			if downloaded == "" {
				dl, err := os.MkdirTemp(filepath.Join(b.cache, "sources"), ".dl-")
				if err != nil {
					return err
				}
				args := append([]string{"-q"}, b.aptSrcOpts()...)
				args = append(args, "source", "--download-only", id.Name+"="+id.Version)
				if _, err := run(ctx, dl, nil, "apt-get", args...); err != nil {
					os.RemoveAll(dl)
					return err
				}
				downloaded = dl
			}
			return os.Rename(filepath.Join(downloaded, f.Name), tmp)
		})
		if err != nil {
			return err
		}
		if err := os.Link(p, filepath.Join(work, f.Name)); err != nil {
			if err := copyFile(p, filepath.Join(work, f.Name), 0o644); err != nil {
				return err
			}
		}
		if strings.HasSuffix(f.Name, ".dsc") {
			dsc = f.Name
		}
	}
	if downloaded != "" {
		os.RemoveAll(downloaded)
	}
	tree := filepath.Join(work, "tree")
	if _, err := run(ctx, work, nil, "dpkg-source", "--no-copy", "-x", dsc, tree); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.Remove(dst); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("dest %s: not empty", dst)
	}
	return os.Rename(tree, dst)
}

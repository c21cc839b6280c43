package pkgbuild

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// resolveDeb asks apt (with the machine's own configuration, so its mirror)
// which .deb a source means and what its sha256 is, without downloading it.
func (b *Builder) resolveDeb(ctx context.Context, s Source) (DebInfo, error) {
	name := s.Deb
	if s.Via != "" {
		var err error
		if name, err = dependencyOf(ctx, b.aptBinOpts(), s.Via, s.Deb); err != nil {
			return DebInfo{}, err
		}
	}
	ver := s.Version
	if ver == Candidate {
		out, err := run(ctx, "", nil, "apt-cache", append(b.aptBinOpts(), "policy", name)...)
		if err != nil {
			return DebInfo{}, aptUnknown(err, name, "")
		}
		if len(bytes.TrimSpace(out)) == 0 {
			// apt-cache policy prints nothing, and succeeds, for a name it
			// does not know.
			return DebInfo{}, fmt.Errorf("no Debian package %q (apt-cache policy knows no such name)", name)
		}
		if ver, err = ParseCandidate(out); err != nil {
			return DebInfo{}, fmt.Errorf("%s: %w", name, err)
		}
	}
	out, err := run(ctx, "", nil, "apt-cache", append(b.aptBinOpts(), "show", name+"="+ver)...)
	if err != nil {
		return DebInfo{}, aptUnknown(err, name, ver)
	}
	if len(bytes.TrimSpace(out)) == 0 {
		// apt-cache show name=version prints nothing, and succeeds, for a
		// version of a known name that it does not have.
		return DebInfo{}, fmt.Errorf("no version %q of Debian package %q (apt-cache show printed nothing)", ver, name)
	}
	st := firstStanza(out)
	if st["SHA256"] == "" || st["Filename"] == "" {
		return DebInfo{}, fmt.Errorf("apt-cache show %s=%s: no SHA256 or Filename", name, ver)
	}
	if s.SHA256 != "" && s.SHA256 != st["SHA256"] {
		return DebInfo{}, fmt.Errorf("%s %s: sha256 mismatch: apt has %s, recipe says %s", name, ver, st["SHA256"], s.SHA256)
	}
	d := DebInfo{Package: name, Version: ver, Arch: st["Architecture"], SHA256: st["SHA256"],
		Filename: path.Base(st["Filename"]), Path: st["Filename"], Source: name, Priority: st["Priority"], Essential: st["Essential"] == "yes"}
	if src := strings.Fields(st["Source"]); len(src) > 0 {
		d.Source = src[0]
	}
	if strings.HasPrefix(d.Path, "pool/updates/") {
		d.Archive = "debian-security" // only the security archive's pool has updates/
	}
	if err := d.check(); err != nil {
		return DebInfo{}, fmt.Errorf("apt: %w", err)
	}
	return d, nil
}

// aptBinOpts are the machine's apt configuration plus package caches of
// our own: Debian's images turn apt's caches off, which costs every
// apt-cache call a parse of all the lists (~0.4 s instead of ~10 ms).
func (b *Builder) aptBinOpts() []string {
	d := filepath.Join(b.cache, "apt-bin")
	os.MkdirAll(d, 0o755)
	return []string{"-o", "Dir::Cache=" + d, "-o", "Dir::Cache::pkgcache=pkgcache.bin", "-o", "Dir::Cache::srcpkgcache=srcpkgcache.bin"}
}

// fetchDeb fetches the .deb of a source without a lock (debFile) and
// unpacks it into dst.
func (b *Builder) fetchDeb(ctx context.Context, id SourceID, dst string) error {
	d := DebInfo{Package: id.Name, Version: id.Version, SHA256: id.Files[0].SHA256, Filename: id.Files[0].Name}
	p, err := b.debFile(ctx, d, "", id.Name)
	if err != nil {
		return err
	}
	return extractDeb(p, dst)
}

// dependencyOf picks the dependency of a metapackage whose name matches
// glob: how "the current cloud kernel" is found without writing it down.
func dependencyOf(ctx context.Context, opts []string, meta, glob string) (string, error) {
	out, err := run(ctx, "", nil, "apt-cache", append(opts, "depends", meta)...)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(out), "\n") {
		dep, ok := strings.CutPrefix(strings.TrimLeft(strings.TrimSpace(line), "|"), "Depends:")
		if !ok {
			continue
		}
		dep = strings.TrimSpace(dep)
		if m, _ := path.Match(glob, dep); m && dep != meta {
			return dep, nil
		}
	}
	return "", fmt.Errorf("%s has no dependency matching %q", meta, glob)
}

// parseCandidate reads the "Candidate:" line of apt-cache policy.
func ParseCandidate(policy []byte) (string, error) {
	for _, line := range strings.Split(string(policy), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Candidate:"); ok {
			v = strings.TrimSpace(v)
			if v == "" || v == "(none)" {
				return "", errors.New("apt has no candidate version (is apt-get update done?)")
			}
			return v, nil
		}
	}
	return "", errors.New("apt-cache policy printed no candidate (unknown package?)")
}

// stanzas parses deb822 text (apt-cache show, showsrc) into field maps.
// Continuation lines are kept, joined with "\n".
func stanzas(data []byte) []map[string]string {
	var out []map[string]string
	cur := map[string]string{}
	var last string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			if len(cur) > 0 {
				out = append(out, cur)
				cur = map[string]string{}
			}
		case line[0] == ' ' || line[0] == '\t':
			if last != "" {
				cur[last] += "\n" + strings.TrimSpace(line)
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if ok {
				last = k
				cur[k] = strings.TrimSpace(v)
			}
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func firstStanza(data []byte) map[string]string {
	if s := stanzas(data); len(s) > 0 {
		return s[0]
	}
	return map[string]string{}
}

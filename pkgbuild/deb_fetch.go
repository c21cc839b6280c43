package pkgbuild

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/unit-os/unit/cas"
)

// DefaultSnapshot is Debian's snapshot archive, the default of the
// snapshots setting: {archive} is debian or debian-security, {time} the
// lock's resolution time as YYYYMMDDTHHMMSSZ.
const DefaultSnapshot = "https://snapshot.debian.org/archive/{archive}/{time}"

// debFile returns the path of the pinned .deb d in the sha256-keyed
// download cache, fetching it first when the cache does not hold it, from
// in order: the configured caches, the mirror (apt-get download), the
// snapshot archives at the lock's resolution time. The sha256 is checked
// whatever the place; a .deb from the mirror or a snapshot is also put to
// the push places. lockPath and update name the lock and the recipe for
// the error when every place fails.
func (b *Builder) debFile(ctx context.Context, d DebInfo, lockPath, update string) (string, error) {
	dir := filepath.Join(b.cache, "sources")
	dst := filepath.Join(dir, d.SHA256)
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	srcs := append([]cas.Source{cas.Dir{Path: dir, Label: "download cache"}}, b.caches...)
	srcs = append(srcs, &aptSource{b: b, d: d})
	srcs = append(srcs, b.snapshotSources(d)...)
	from, err := cas.Fetch(ctx, srcs, d.SHA256, dst)
	if err != nil {
		return "", pinError(d, lockPath, update, err)
	}
	switch from.(type) {
	case *aptSource, cas.URL:
		b.writeThrough(ctx, d, dst)
	}
	return dst, nil
}

// pinError is the error for a pin no place could serve: what it is, every
// place asked, and the two ways out.
func pinError(d DebInfo, lockPath, update string, err error) error {
	if _, ok := err.(*cas.FetchError); !ok {
		return fmt.Errorf("%s %s (sha256 %s): %w", d.Package, d.Version, d.SHA256, err)
	}
	msg := fmt.Sprintf("%s %s (sha256 %s): %v. Ways out: unit pkg update %s (re-pin to what the archive has now), or add a cache that has it to pkg.toml",
		d.Package, d.Version, d.SHA256, err, update)
	if lockPath != "" {
		msg = lockPath + ": " + msg
	}
	return fmt.Errorf("%s", msg)
}

// writeThrough puts a .deb just fetched from a mirror or snapshot to the
// push places; a failure is a warning, never a build failure.
func (b *Builder) writeThrough(ctx context.Context, d DebInfo, path string) {
	for _, p := range b.push {
		if err := cas.PutFile(ctx, p, d.SHA256, path); err != nil {
			b.say(d.Package, "warning: write-through: %v", err)
		}
	}
}

// snapshotSources are the snapshot archives' URLs of d, or one place that
// says why there are none for it (an older lock without a pool path).
func (b *Builder) snapshotSources(d DebInfo) []cas.Source {
	if len(b.snapshots) == 0 {
		return nil
	}
	if d.Path == "" || d.Resolved.IsZero() {
		return []cas.Source{unavailable{"snapshots", "the lock has no pool path or resolution time for it: an older lock"}}
	}
	archives := []string{d.Archive}
	if d.Archive == "" {
		archives = []string{"debian", "debian-security"}
	}
	var out []cas.Source
	for _, tmpl := range b.snapshots {
		for _, a := range archives {
			base := strings.NewReplacer("{archive}", a, "{time}", d.Resolved.UTC().Format("20060102T150405Z")).Replace(tmpl)
			out = append(out, cas.URL{URL: strings.TrimSuffix(base, "/") + "/" + d.Path, Label: "snapshot"})
		}
	}
	return out
}

// unavailable is a place that cannot be asked, listed with why.
type unavailable struct{ name, why string }

func (u unavailable) String() string { return u.name }
func (u unavailable) Get(context.Context, string, io.Writer) error {
	return cas.NotFound(u.why)
}

// aptSource is the machine's mirror: apt-get download of the pinned
// version, as its apt configuration says.
type aptSource struct {
	b *Builder
	d DebInfo
}

func (a *aptSource) String() string { return "the archive" }

func (a *aptSource) Get(ctx context.Context, _ string, w io.Writer) error {
	tmp, err := os.MkdirTemp(filepath.Join(a.b.cache, "sources"), ".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if _, err := run(ctx, tmp, nil, "apt-get", append(a.b.aptBinOpts(), "download", "-q", debSpec(a.d))...); err != nil {
		if gone(err) {
			return cas.NotFound("apt: no longer there")
		}
		return err
	}
	// apt names the file itself (with the epoch escaped): take the one .deb.
	debs, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
	if len(debs) != 1 {
		return fmt.Errorf("apt-get download %s: want one .deb, found %d", debSpec(a.d), len(debs))
	}
	f, err := os.Open(debs[0])
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// debSpec is apt's name for the pinned version: name[:arch]=version.
func debSpec(d DebInfo) string {
	if d.Arch != "all" && d.Arch != "" {
		return d.Package + ":" + d.Arch + "=" + d.Version
	}
	return d.Package + "=" + d.Version
}

// gone tells apt's "no such version" answers from other failures.
func gone(err error) bool {
	msg := err.Error()
	for _, s := range []string{"was not found", "Can't find a source", "Unable to locate package", "Can not find version"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

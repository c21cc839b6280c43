package pkgbuild

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// resolveClosure asks apt's own resolver which .debs installing name (at
// version, or the candidate) takes on an empty system, with the machine's
// sources and our caches: alternatives, virtual packages and versions are
// apt's choice. Nothing on the host changes: the dpkg status is an empty
// file of ours and apt takes no lock. The closure is Pre-Depends and
// Depends, plus Debian's Essential packages (what every Debian system
// has, so no package depends on them: the tools a service's script
// calls), plus the Recommends asked for: all of them as apt installs
// them by default (allRecs), or the named ones of the package's.
func (b *Builder) resolveClosure(ctx context.Context, name, version string, allRecs bool, recs []string) (top string, debs []DebInfo, err error) {
	if err := os.MkdirAll(b.cache, 0o755); err != nil {
		return "", nil, err
	}
	status := filepath.Join(b.cache, "apt-empty-status")
	if err := os.WriteFile(status, nil, 0o644); err != nil {
		return "", nil, err
	}
	arg := name
	if version != "" && version != Candidate {
		arg += "=" + version
	}
	essential, err := b.essentialNames(ctx)
	if err != nil {
		return "", nil, err
	}
	args := append(b.aptBinOpts(), "-o", "Dir::State::status="+status, "-o", "Debug::NoLocking=1",
		"-o", fmt.Sprintf("APT::Install-Recommends=%t", allRecs), "-o", "APT::Install-Suggests=false",
		"install", "--print-uris", "-qq", "-y", arg)
	args = append(append(args, recs...), essential...)
	out, err := run(ctx, "", nil, "apt-get", args...)
	if err != nil {
		return "", nil, aptUnknown(err, name, version)
	}
	type nva struct{ name, version, arch, uri string }
	var want []nva
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasPrefix(f[0], "'") {
			continue
		}
		// The second field is the .deb's name: package_version_arch.deb,
		// the epoch's colon escaped. apt prints MD5 or nothing here, so
		// the SHA256 comes from apt-cache show below.
		base := strings.TrimSuffix(f[1], ".deb")
		parts := strings.Split(base, "_")
		if len(parts) != 3 {
			return "", nil, fmt.Errorf("apt-get --print-uris: unexpected file name %q", f[1])
		}
		v, err := url.PathUnescape(parts[1])
		if err != nil {
			return "", nil, fmt.Errorf("apt-get --print-uris: file name %q: %w", f[1], err)
		}
		want = append(want, nva{parts[0], v, parts[2], strings.Trim(f[0], "'")})
	}
	if len(want) == 0 {
		return "", nil, fmt.Errorf("apt-get install --print-uris %s: no packages (unknown package, or no apt lists?)", arg)
	}
	showArgs := append([]string{}, b.aptBinOpts()...)
	showArgs = append(showArgs, "show")
	for _, w := range want {
		showArgs = append(showArgs, w.name+":"+w.arch+"="+w.version)
	}
	shown, err := run(ctx, "", nil, "apt-cache", showArgs...)
	if err != nil {
		return "", nil, err
	}
	st := stanzas(shown)
	find := func(w nva) map[string]string {
		for _, s := range st {
			if s["Package"] == w.name && s["Version"] == w.version && s["Architecture"] == w.arch {
				return s
			}
		}
		return nil
	}
	fields := make([]map[string]string, len(want))
	provides := map[string]string{} // virtual or real name → package of the closure
	for i, w := range want {
		s := find(w)
		if s == nil || s["SHA256"] == "" || s["Filename"] == "" {
			return "", nil, fmt.Errorf("apt-cache show %s=%s: no SHA256 or Filename", w.name, w.version)
		}
		fields[i] = s
		provides[w.name] = w.name
	}
	for i, w := range want {
		for _, p := range splitList(fields[i]["Provides"]) {
			p = relName(p)
			if _, ok := provides[p]; !ok {
				provides[p] = w.name
			}
		}
	}
	for i, w := range want {
		s := fields[i]
		d := DebInfo{Package: w.name, Version: w.version, Arch: w.arch, SHA256: s["SHA256"],
			Filename: filepath.Base(s["Filename"]), Source: w.name,
			Essential: s["Essential"] == "yes", Priority: s["Priority"],
			Path: s["Filename"], Archive: archiveOf(w.uri, s["Filename"])}
		if src := strings.Fields(s["Source"]); len(src) > 0 {
			d.Source = src[0] // "name (version)" when the versions differ
		}
		seen := map[string]bool{}
		for _, clause := range append(splitList(s["Pre-Depends"]), splitList(s["Depends"])...) {
			if dep := chooseAlternative(clause, provides); dep != "" && dep != w.name && !seen[dep] {
				seen[dep] = true
				d.Depends = append(d.Depends, dep)
			}
		}
		sort.Strings(d.Depends)
		if allRecs {
			d.Recommends = chosenRecommends(s["Recommends"], provides, w.name, nil)
		}
		if err := d.check(); err != nil {
			return "", nil, fmt.Errorf("apt: %w", err)
		}
		debs = append(debs, d)
	}
	// The package asked for may be virtual: its closure entry is the one
	// apt chose for it.
	if top = provides[name]; top == "" {
		return "", nil, fmt.Errorf("apt resolved %s to packages none of which is or provides it", name)
	}
	if len(recs) > 0 {
		for i, w := range want {
			if w.name != top {
				continue
			}
			chosen, err := pickRecommends(fields[i]["Recommends"], provides, top, recs)
			if err != nil {
				return "", nil, err
			}
			for j := range debs {
				if debs[j].Package == top {
					debs[j].Recommends = chosen
				}
			}
		}
	}
	sort.Slice(debs, func(i, j int) bool { return debs[i].Package < debs[j].Package })
	return top, debs, nil
}

// archiveOf names the archive a .deb's URI is in: the last part of the
// URI before its pool path (…/debian-security/pool/… is debian-security);
// "debian" for any other mirror layout (a local or renamed mirror).
func archiveOf(uri, poolPath string) string {
	if u, err := url.PathUnescape(uri); err == nil {
		uri = u
	}
	base, ok := strings.CutSuffix(uri, "/"+poolPath)
	if ok && path.Base(base) == "debian-security" {
		return "debian-security"
	}
	return "debian"
}

// aptUnknown says in one short line that apt knows no package name (or
// no such version of it), instead of the whole apt command line; other
// errors are returned as they are.
func aptUnknown(err error, name, version string) error {
	var ce *cmdError
	if !errors.As(err, &ce) {
		return err
	}
	for _, line := range strings.Split(ce.Stderr, "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "E:"))
		switch {
		case strings.HasPrefix(line, "Unable to locate package"):
			return fmt.Errorf("no Debian package %q (apt: Unable to locate package)", name)
		case strings.HasPrefix(line, "No packages found"):
			return fmt.Errorf("no Debian package %q (apt: No packages found)", name)
		case strings.HasPrefix(line, "Version '") && strings.HasSuffix(line, "was not found"):
			return fmt.Errorf("no version %q of Debian package %q (apt: Version '%s' for '%s' was not found)", version, name, version, name)
		}
	}
	return err
}

// splitList splits a deb822 relationship field at commas, each entry with
// its version constraint and arch qualifier stripped but alternatives
// ("a | b") kept.
func splitList(field string) []string {
	var out []string
	for _, e := range strings.Split(field, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// chooseAlternative returns the closure package that satisfies clause
// ("a (>= 1) | b:any"): the first alternative that is, or is provided by,
// a package apt put in the closure. "" when none is (apt left it out).
func chooseAlternative(clause string, provides map[string]string) string {
	for _, alt := range strings.Split(clause, "|") {
		if p := provides[relName(alt)]; p != "" {
			return p
		}
	}
	return ""
}

// relName is the package name of one relationship entry ("b:any (>= 1)").
func relName(rel string) string {
	n := strings.TrimSpace(rel)
	if i := strings.IndexAny(n, " ([<"); i >= 0 {
		n = n[:i]
	}
	n, _, _ = strings.Cut(n, ":")
	return n
}

// essentialNames are the packages apt's index marks Essential: yes.
func (b *Builder) essentialNames(ctx context.Context) ([]string, error) {
	out, err := run(ctx, "", nil, "apt-cache", append(b.aptBinOpts(), "show", "?essential")...)
	if err != nil {
		var ce *cmdError
		if errors.As(err, &ce) && strings.Contains(ce.Stderr, "No packages found") {
			return nil, nil // an archive without Essential packages (a test's)
		}
		return nil, fmt.Errorf("apt-cache show ?essential: %w", err)
	}
	seen := map[string]bool{}
	var names []string
	for _, st := range stanzas(out) {
		if n := st["Package"]; st["Essential"] == "yes" && nameRE.MatchString(n) && !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}

// chosenRecommends are the closure packages that satisfy the Recommends
// field of package self, those in only if it is not nil, sorted.
func chosenRecommends(field string, provides map[string]string, self string, only map[string]bool) []string {
	seen := map[string]bool{}
	var out []string
	for _, clause := range splitList(field) {
		if only != nil && !clauseNames(clause, only) {
			continue
		}
		if p := chooseAlternative(clause, provides); p != "" && p != self && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// pickRecommends checks that each name asked for is among the package's
// Recommends and returns the closure packages chosen for them.
func pickRecommends(field string, provides map[string]string, top string, recs []string) ([]string, error) {
	want := map[string]bool{}
	for _, r := range recs {
		want[r] = true
	}
	var have []string
	for _, clause := range splitList(field) {
		for _, alt := range strings.Split(clause, "|") {
			have = append(have, relName(alt))
			delete(want, relName(alt))
		}
	}
	if len(want) > 0 {
		var missing []string
		for n := range want {
			missing = append(missing, n)
		}
		sort.Strings(missing)
		return nil, fmt.Errorf("recommends: %s not among %s's Recommends (%s)", strings.Join(missing, ", "), top, strings.Join(have, ", "))
	}
	only := map[string]bool{}
	for _, r := range recs {
		only[r] = true
	}
	return chosenRecommends(field, provides, top, only), nil
}

// clauseNames says whether one alternative of clause is in names.
func clauseNames(clause string, names map[string]bool) bool {
	for _, alt := range strings.Split(clause, "|") {
		if names[relName(alt)] {
			return true
		}
	}
	return false
}

package image

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

const busyboxPkg = "busybox-static"

// busybox is the unpacked static busybox and the applets it provides.
type busybox struct {
	Pkg     Package
	Path    string   // the binary, on the host
	Applets []string // paths relative to /, e.g. "bin/ash"
}

// fetchBusybox returns the cached busybox-static package, downloading it on
// first use, and asks the binary itself where its applets belong.
func fetchBusybox(ctx context.Context, log *slog.Logger, cache string) (*busybox, error) {
	p, err := candidate(ctx, busyboxPkg)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cache, "busybox", cacheName(p.Version))
	if err := extractDeb(ctx, log, p, dir, nil); err != nil {
		return nil, err
	}
	b := &busybox{Pkg: p}
	for _, rel := range []string{"bin/busybox", "usr/bin/busybox"} {
		if _, err := os.Stat(filepath.Join(dir, rel)); err == nil {
			b.Path = filepath.Join(dir, rel)
			break
		}
	}
	if b.Path == "" {
		return nil, fmt.Errorf("%s %s: no busybox binary in %s", p.Name, p.Version, dir)
	}
	// It is static, so it runs on the build host whatever the host's libc.
	out, err := run(ctx, "", b.Path, "--list-full")
	if err != nil {
		return nil, fmt.Errorf("busybox applets: %w", err)
	}
	b.Applets = parseApplets(out)
	return b, nil
}

// parseApplets reads busybox --list-full: one path per line, relative to /.
// Odd lines (absolute, "..", empty) are dropped, and so are duplicates.
func parseApplets(out []byte) []string {
	seen := map[string]bool{}
	var applets []string
	for _, line := range strings.Split(string(out), "\n") {
		p := strings.TrimSpace(line)
		if p == "" || strings.HasPrefix(p, "/") {
			continue
		}
		p = path.Clean(p)
		if p == "." || p == ".." || strings.HasPrefix(p, "../") || seen[p] {
			continue
		}
		seen[p] = true
		applets = append(applets, p)
	}
	sort.Strings(applets)
	return applets
}

// entries installs /bin/busybox and one symlink per applet, skipping any
// applet whose path is already taken (/init, /bin/unit, busybox itself).
func (b *busybox) entries(taken map[string]bool) ([]entry, error) {
	bin, err := os.ReadFile(b.Path)
	if err != nil {
		return nil, fmt.Errorf("busybox: %w", err)
	}
	es := []entry{{Name: "bin/busybox", Mode: 0o755, Data: bin}}
	for _, a := range b.Applets {
		if taken[a] || a == "bin/busybox" {
			continue
		}
		es = append(es, entry{Name: a, Mode: fs.ModeSymlink | 0o777, Data: []byte("/bin/busybox")})
	}
	return es, nil
}

package pkgbuild

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// fetchURL downloads (or takes from the cache) a pinned file and unpacks it
// into dst if it is a tarball; any other file is copied there as is.
func (b *Builder) fetchURL(ctx context.Context, s Source, dst string) error {
	p, err := b.cached(s.SHA256, s.URL, func(tmp string) error { return download(ctx, s.URL, tmp) })
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	name := filepath.Base(s.URL)
	if !isTarball(name) {
		return copyFile(p, filepath.Join(dst, name), 0o644)
	}
	strip := 1
	if s.Strip != nil {
		strip = *s.Strip
	}
	_, err = run(ctx, "", nil, "tar", "-x", "--no-same-owner", "--strip-components="+strconv.Itoa(strip), "-f", p, "-C", dst)
	return err
}

func isTarball(name string) bool {
	for _, ext := range []string{".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tar.zst"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// aptHelper is apt's own downloader. unit leaves HTTP and TLS to it, so
// url sources honour apt's proxy and CA settings, and PID 1's binary does
// not carry a TLS stack (a third of its size) for the one builder path that
// fetches over the network.
const aptHelper = "/usr/lib/apt/apt-helper"

// download fetches url into to; the caller checks the pinned sha256.
func download(ctx context.Context, url, to string) error {
	// Sandbox::User=root: the file is in our cache, which apt's _apt user
	// may not be able to write.
	_, err := run(ctx, "", nil, aptHelper, "-o", "APT::Sandbox::User=root", "download-file", url, to)
	if err != nil {
		return fmt.Errorf("download %s: %w", url, err)
	}
	return nil
}

package pkgbuild

import (
	"context"
	"fmt"
	"io"
	"net/http"
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

func download(ctx context.Context, url, to string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return f.Close()
}

package image

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Debian's metapackages that always depend on the current cloud kernel
// (virtio only) and generic kernel (every driver); following them means
// the version is never written down here.
const (
	kernelMeta      = "linux-image-cloud-amd64"
	kernelMetaMetal = "linux-image-amd64"
)

// kernel is an unpacked Debian kernel package with a fresh modules.dep.
type kernel struct {
	Pkg     Package
	Release string // uname -r, e.g. 6.1.0-56-cloud-amd64
	Vmlinuz string // path to the kernel image
	Modules string // path to lib/modules/RELEASE
}

// resolveKernel finds the package the metapackage currently depends on.
func resolveKernel(ctx context.Context, meta string) (Package, string, error) {
	out, err := run(ctx, "", "apt-cache", "depends", meta)
	if err != nil {
		return Package{}, "", fmt.Errorf("resolve kernel: %w", err)
	}
	name, err := parseKernelDepends(out, meta)
	if err != nil {
		return Package{}, "", fmt.Errorf("resolve kernel: %s: %w", meta, err)
	}
	p, err := candidate(ctx, name)
	if err != nil {
		return Package{}, "", fmt.Errorf("resolve kernel: %w", err)
	}
	return p, strings.TrimPrefix(name, "linux-image-"), nil
}

// parseKernelDepends picks "linux-image-X-FLAVOUR" out of apt-cache depends
// of the metapackage linux-image-FLAVOUR.
func parseKernelDepends(out []byte, meta string) (string, error) {
	flavour := "-" + strings.TrimPrefix(meta, "linux-image-")
	for _, line := range strings.Split(string(out), "\n") {
		dep, ok := strings.CutPrefix(strings.TrimLeft(strings.TrimSpace(line), "|"), "Depends:")
		if !ok {
			continue
		}
		dep = strings.TrimSpace(dep)
		if strings.HasPrefix(dep, "linux-image-") && strings.HasSuffix(dep, flavour) && dep != meta {
			return dep, nil
		}
	}
	return "", fmt.Errorf("no Depends: linux-image-*%s line", flavour)
}

// fetchKernel returns the cached kernel, downloading it on first use. The
// .deb carries no modules.dep, so depmod runs before the entry is published.
func fetchKernel(ctx context.Context, log *slog.Logger, cache, meta string) (*kernel, error) {
	p, release, err := resolveKernel(ctx, meta)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cache, "kernel", release+"_"+cacheName(p.Version))
	prepare := func(root string) error {
		if _, err := modulesDir(root, release); err != nil {
			return err
		}
		if _, err := run(ctx, "", "depmod", "-b", root, release); err != nil {
			return err
		}
		return nil
	}
	if err := extractDeb(ctx, log, p, dir, prepare); err != nil {
		return nil, err
	}
	k := &kernel{Pkg: p, Release: release, Vmlinuz: filepath.Join(dir, "boot", "vmlinuz-"+release)}
	if k.Modules, err = modulesDir(dir, release); err != nil {
		return nil, fmt.Errorf("kernel %s: %w", release, err)
	}
	if _, err := os.Stat(filepath.Join(k.Modules, "modules.dep")); err != nil {
		return nil, fmt.Errorf("kernel %s: %w (remove %s to fetch it again)", release, err, dir)
	}
	if _, err := os.Stat(k.Vmlinuz); err != nil {
		return nil, fmt.Errorf("kernel %s: %w", release, err)
	}
	return k, nil
}

// modulesDir finds lib/modules/RELEASE under root. Packages built for a
// merged /usr ship it under usr/lib; depmod -b only looks under lib, so a
// link is made for it.
func modulesDir(root, release string) (string, error) {
	dir := filepath.Join(root, "lib", "modules", release)
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	usr := filepath.Join(root, "usr", "lib", "modules", release)
	if _, err := os.Stat(usr); err != nil {
		return "", fmt.Errorf("no lib/modules/%s in the package", release)
	}
	if _, err := os.Lstat(filepath.Join(root, "lib")); errors.Is(err, os.ErrNotExist) {
		if err := os.Symlink("usr/lib", filepath.Join(root, "lib")); err != nil {
			return "", err
		}
	}
	return usr, nil
}

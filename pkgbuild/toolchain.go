package pkgbuild

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// toolchainFiles are the host files a build's output depends on most: the
// C compiler driver, linker, C library, make, the shell, kmod (depmod) and
// the Go toolchain.
var toolchainFiles = []string{
	"/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/ld", "/usr/lib/x86_64-linux-gnu/libc.a",
	"/usr/bin/make", "/bin/sh", "/usr/bin/kmod", "/usr/local/go/VERSION",
}

// toolchainID names the host toolchain, for the keg hash: each file's
// resolved path, size and mtime (dpkg installs files with their package's
// mtimes, so the same Debian packages give the same ID on every machine),
// and the Go toolchain's VERSION line. Upgrading gcc or Go rebuilds every
// keg that ran steps. Computed once per process.
var toolchainID = sync.OnceValue(func() string {
	var parts []string
	for _, f := range toolchainFiles {
		real, err := filepath.EvalSymlinks(f)
		if err != nil {
			parts = append(parts, f+" absent")
			continue
		}
		if strings.HasSuffix(f, "/VERSION") {
			data, _ := os.ReadFile(real)
			first, _, _ := strings.Cut(string(data), "\n")
			parts = append(parts, f+" "+first)
			continue
		}
		fi, err := os.Stat(real)
		if err != nil {
			parts = append(parts, f+" absent")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s=%s %d %d", f, real, fi.Size(), fi.ModTime().Unix()))
	}
	return strings.Join(parts, "; ")
})

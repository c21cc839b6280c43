package cm

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/unit-os/unit/config"
)

// A file's source may name a file inside a package's keg:
// source = "package:NAME/etc/app.conf" reads <keg>/etc/app.conf of the keg
// that [package.NAME] selects, so a config can take a packaged default.
const packageSource = "package:"

// pkgSource splits "package:NAME/REL"; ok is false for a plain path.
func pkgSource(src string) (name, rel string, ok bool) {
	rest, ok := strings.CutPrefix(src, packageSource)
	if !ok {
		return "", "", false
	}
	name, rel, _ = strings.Cut(rest, "/")
	return name, rel, true
}

// sourcePath resolves the source to a path on disk.
func (f *fileRes) sourcePath() (string, error) { return resolveSource(f.source, f.pkg) }

// resolveSource turns an absolute path or package:NAME/PATH into a path on
// disk; pkg is the [package.NAME] table the source names, if any.
func resolveSource(source string, pkg *config.Package) (string, error) {
	name, rel, ok := pkgSource(source)
	if !ok {
		if !filepath.IsAbs(source) {
			return "", fmt.Errorf("source %q: expected an absolute path or package:NAME/PATH", source)
		}
		return source, nil
	}
	if pkg == nil {
		return "", fmt.Errorf("source %q: package %q is not configured", source, name)
	}
	if rel == "" || filepath.Clean(rel) != rel || strings.HasPrefix(rel, "../") || rel == ".." {
		return "", fmt.Errorf("source %q: expected package:NAME/RELATIVE/PATH", source)
	}
	keg, err := (&packageRes{p: *pkg}).keg()
	if err != nil {
		return "", fmt.Errorf("source: %w", err)
	}
	return filepath.Join(keg, rel), nil
}

// packageOf returns a copy of the [package] table a source names, or nil.
func packageOf(cfg *config.Config, source string) *config.Package {
	if name, _, ok := pkgSource(source); ok {
		if p := cfg.Packages[name]; p != nil {
			c := *p
			return &c
		}
	}
	return nil
}

// After: a package source converges after its package.
func (f *fileRes) After() []string {
	if name, _, ok := pkgSource(f.source); ok {
		return []string{"package:" + name}
	}
	return nil
}

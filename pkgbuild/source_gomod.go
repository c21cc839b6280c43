package pkgbuild

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// goModule is what `go mod download -json` says of a module.
type goModule struct {
	Path     string
	Version  string
	Dir      string
	Sum      string
	GoModSum string
}

// goEnv is the environment of host-side go commands: a module cache of our
// own, and the local toolchain only (no toolchain downloads).
func (b *Builder) goEnv() []string {
	return []string{"GOMODCACHE=" + b.goModCache(), "GOFLAGS=-modcacherw", "GOTOOLCHAIN=local"}
}

func (b *Builder) goModCache() string { return filepath.Join(b.cache, "gomod") }

// resolveGoMod finds the module that holds the package in s.GoMod and
// downloads it and every module its go.mod requires into the module cache
// (checked by the go command against go.sum and the checksum database).
// The result is remembered, so later resolutions spawn nothing.
func (b *Builder) resolveGoMod(ctx context.Context, s Source) (SourceID, error) {
	pkg, ver, _ := strings.Cut(s.GoMod, "@")
	meta := filepath.Join(b.cache, "sources", "gomod", strings.ReplaceAll(s.GoMod, "/", "!")+".json")
	var m goModule
	if data, err := os.ReadFile(meta); err == nil && json.Unmarshal(data, &m) == nil && m.Sum != "" {
		return goModID(s, m), nil
	}
	b.goMu.Lock()
	defer b.goMu.Unlock()
	m, err := b.downloadModule(ctx, pkg, ver)
	if err != nil {
		return SourceID{}, err
	}
	// Every module the build can need: go.mod lists them all (Go ≥ 1.17).
	if _, err := run(ctx, m.Dir, b.goEnv(), "go", "mod", "download"); err != nil {
		return SourceID{}, fmt.Errorf("download the dependencies of %s: %w", m.Path, err)
	}
	data, _ := json.Marshal(m)
	if err := os.MkdirAll(filepath.Dir(meta), 0o755); err != nil {
		return SourceID{}, err
	}
	if err := os.WriteFile(meta, data, 0o644); err != nil {
		return SourceID{}, err
	}
	return goModID(s, m), nil
}

func goModID(s Source, m goModule) SourceID {
	return SourceID{Kind: "gomod", Name: s.GoMod, Version: m.Version, Sum: m.Path + " " + m.Sum + " " + m.GoModSum}
}

// downloadModule tries the package path and its parents until one is a module.
func (b *Builder) downloadModule(ctx context.Context, pkg, ver string) (goModule, error) {
	var firstErr error
	for p := pkg; strings.Contains(p, "/"); p = p[:strings.LastIndex(p, "/")] {
		out, err := run(ctx, b.cache, b.goEnv(), "go", "mod", "download", "-json", p+"@"+ver)
		var m goModule
		if err == nil && json.Unmarshal(out, &m) == nil && m.Sum != "" {
			return m, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return goModule{}, fmt.Errorf("no module at %s@%s: %v", pkg, ver, firstErr)
}

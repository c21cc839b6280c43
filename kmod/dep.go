// Package kmod reads depmod's modules.dep and loads kernel modules with
// their dependencies, dependencies first. The image builder uses the same
// closure to pick which .ko files go into an initramfs.
package kmod

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Dep is a parsed modules.dep: module name → its file and direct deps.
type Dep map[string]Module

// Module is one line of modules.dep.
type Module struct {
	Name string
	Path string   // relative to /lib/modules/VERSION
	Deps []string // paths, as modules.dep lists them
}

// Name normalises a module name: "virtio-net", "virtio_net.ko" → "virtio_net".
func Name(s string) string {
	s = filepath.Base(s)
	for _, ext := range []string{".xz", ".zst", ".gz"} {
		s = strings.TrimSuffix(s, ext)
	}
	s = strings.TrimSuffix(s, ".ko")
	return strings.ReplaceAll(s, "-", "_")
}

// ParseDep reads modules.dep text.
func ParseDep(r io.Reader) (Dep, error) {
	d := Dep{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		path, deps, ok := strings.Cut(text, ":")
		if !ok {
			return nil, fmt.Errorf("modules.dep:%d: expected \"path: deps...\"", line)
		}
		m := Module{Name: Name(path), Path: path, Deps: strings.Fields(deps)}
		d[m.Name] = m
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("modules.dep: %w", err)
	}
	return d, nil
}

// Closure returns the modules needed for names, each after its
// dependencies, without repeats. Names found in builtin are skipped.
func (d Dep) Closure(names []string, builtin map[string]bool) ([]Module, error) {
	var out []Module
	seen := map[string]bool{}
	var visit func(name string, chain []string) error
	visit = func(name string, chain []string) error {
		name = Name(name)
		if seen[name] || builtin[name] {
			return nil
		}
		m, ok := d[name]
		if !ok {
			if len(chain) > 0 {
				return fmt.Errorf("module %s (needed by %s): not in modules.dep", name, strings.Join(chain, " <- "))
			}
			return fmt.Errorf("module %s: not in modules.dep (no such module for this kernel)", name)
		}
		seen[name] = true
		for _, dep := range m.Deps {
			if err := visit(dep, append([]string{name}, chain...)); err != nil {
				return err
			}
		}
		out = append(out, m)
		return nil
	}
	for _, n := range names {
		if err := visit(n, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ParseBuiltin reads modules.builtin (one path per line) into a name set.
func ParseBuiltin(r io.Reader) map[string]bool {
	set := map[string]bool{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); t != "" {
			set[Name(t)] = true
		}
	}
	return set
}

// Format writes modules in modules.dep syntax (for an initramfs subset).
func Format(w io.Writer, mods []Module) error {
	for _, m := range mods {
		line := m.Path + ":"
		if len(m.Deps) > 0 {
			line += " " + strings.Join(m.Deps, " ")
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}

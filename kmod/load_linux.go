package kmod

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Loader loads modules from one /lib/modules/VERSION tree.
type Loader struct {
	Dir     string // e.g. /lib/modules/6.1.0-56-cloud-amd64
	dep     Dep
	builtin map[string]bool
}

// NewLoader reads modules.dep (and modules.builtin, if present) under dir.
// An empty dir means the running kernel's tree.
func NewLoader(dir string) (*Loader, error) {
	if dir == "" {
		var u unix.Utsname
		if err := unix.Uname(&u); err != nil {
			return nil, fmt.Errorf("uname: %w", err)
		}
		dir = filepath.Join("/lib/modules", unix.ByteSliceToString(u.Release[:]))
	}
	f, err := os.Open(filepath.Join(dir, "modules.dep"))
	if err != nil {
		return nil, fmt.Errorf("load modules: %w", err)
	}
	defer f.Close()
	dep, err := ParseDep(f)
	if err != nil {
		return nil, fmt.Errorf("load modules from %s: %w", dir, err)
	}
	builtin := map[string]bool{}
	if b, err := os.Open(filepath.Join(dir, "modules.builtin")); err == nil {
		builtin = ParseBuiltin(b)
		b.Close()
	}
	return &Loader{Dir: dir, dep: dep, builtin: builtin}, nil
}

// Load loads the named modules and their dependencies, dependencies first.
// Already-loaded and built-in modules are fine. It returns the names it
// actually inserted.
func (l *Loader) Load(names ...string) ([]string, error) {
	mods, err := l.dep.Closure(names, l.builtin)
	if err != nil {
		return nil, err
	}
	var loaded []string
	for _, m := range mods {
		ok, err := l.insert(m)
		if err != nil {
			return loaded, err
		}
		if ok {
			loaded = append(loaded, m.Name)
		}
	}
	return loaded, nil
}

func (l *Loader) insert(m Module) (bool, error) {
	path := filepath.Join(l.Dir, m.Path)
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("module %s: %w", m.Name, err)
	}
	defer f.Close()
	flags := 0
	if strings.HasSuffix(path, ".xz") || strings.HasSuffix(path, ".zst") || strings.HasSuffix(path, ".gz") {
		flags |= unix.MODULE_INIT_COMPRESSED_FILE
	}
	if err := unix.FinitModule(int(f.Fd()), "", flags); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return false, nil
		}
		return false, fmt.Errorf("module %s: finit_module %s: %w", m.Name, path, err)
	}
	return true, nil
}

package kmod

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Loader loads modules from one /lib/modules/VERSION tree. It is safe
// for concurrent use: the kernel orders two loads of one module.
type Loader struct {
	Dir     string // e.g. /lib/modules/6.1.0-56-cloud-amd64
	dep     Dep
	builtin map[string]bool
	// sysModule is /sys/module; finit is finit_module(2) (tests replace both).
	sysModule string
	finit     func(fd int, params string, flags int) error
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
	return &Loader{Dir: dir, dep: dep, builtin: builtin, sysModule: "/sys/module", finit: unix.FinitModule}, nil
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

// inKernel says whether the kernel has module name, loaded or loading,
// as modprobe asks before it inserts: finit_module of a module the kernel
// has reads the whole file and checks its signature before it answers
// EEXIST, tens of milliseconds a module under emulation.
func (l *Loader) inKernel(name string) bool {
	b, err := os.ReadFile(filepath.Join(l.sysModule, name, "initstate"))
	if err != nil {
		return false
	}
	switch strings.TrimSpace(string(b)) {
	case "live", "coming":
		return true
	}
	return false // "going": it is being removed, load it again
}

func (l *Loader) insert(m Module) (bool, error) {
	if l.inKernel(m.Name) {
		return false, nil
	}
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
	if err := l.finit(int(f.Fd()), "", flags); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return false, nil
		}
		return false, fmt.Errorf("module %s: finit_module %s: %w", m.Name, path, err)
	}
	return true, nil
}

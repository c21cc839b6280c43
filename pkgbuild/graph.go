package pkgbuild

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/unit-os/unit/config"
)

// LoadRecipes parses the named recipe files and, for every dependency not
// among them, <dir>/<name>.toml beside the recipe that needs it. It checks
// that every dependency exists and that there is no cycle. The result is
// in dependency order (deps first), names sorted where free.
func LoadRecipes(files []string) ([]*Recipe, error) {
	byName := map[string]*Recipe{}
	var errs config.Errors
	add := func(r *Recipe) error {
		if prev, ok := byName[r.Name]; ok {
			if sameFile(prev.File, r.File) {
				return nil
			}
			return config.Errors{r.errorf([]string{"name"}, "package %q is also defined by %s", r.Name, prev.File)}
		}
		byName[r.Name] = r
		return nil
	}
	for _, f := range files {
		r, err := ParseFile(f)
		if err != nil {
			return nil, err
		}
		if err := add(r); err != nil {
			return nil, err
		}
	}
	// Pull in deps from beside their dependents until nothing is missing.
	for changed := true; changed; {
		changed = false
		names := slices.Sorted(maps.Keys(byName))
		for _, n := range names {
			r := byName[n]
			for key, list := range map[string][]string{"deps": r.Deps, "build_deps": r.BuildDeps} {
				for i, d := range list {
					if _, ok := byName[d]; ok {
						continue
					}
					f := filepath.Join(filepath.Dir(r.File), d+".toml")
					if _, err := os.Stat(f); err != nil {
						errs = append(errs, r.errorf([]string{key, strconv.Itoa(i)}, "%s: no recipe for %q (looked for %s)", key, d, f))
						continue
					}
					dr, err := ParseFile(f)
					if err != nil {
						return nil, err
					}
					if dr.Name != d {
						errs = append(errs, dr.errorf([]string{"name"}, "%s is named %q, but %s expects %q there", f, dr.Name, r.File, d))
						continue
					}
					if err := add(dr); err != nil {
						return nil, err
					}
					changed = true
				}
			}
		}
		if len(errs) > 0 {
			return nil, errs
		}
	}
	return topoSort(byName)
}

// topoSort orders recipes deps first; a cycle is an error at the line of
// the dependency that closes it.
func topoSort(byName map[string]*Recipe) ([]*Recipe, error) {
	const (
		unvisited = iota
		active
		done
	)
	state := map[string]int{}
	var order []*Recipe
	var stack []string
	var visit func(n string) error
	visit = func(n string) error {
		r := byName[n]
		state[n] = active
		stack = append(stack, n)
		for _, dep := range allDeps(r) {
			switch state[dep.name] {
			case active:
				i := indexOf(stack, dep.name)
				cycle := append(append([]string{}, stack[i:]...), dep.name)
				return config.Errors{r.errorf([]string{dep.key, strconv.Itoa(dep.index)},
					"dependency cycle: %s", strings.Join(cycle, " → "))}
			case unvisited:
				if err := visit(dep.name); err != nil {
					return err
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
		order = append(order, r)
		return nil
	}
	for _, n := range slices.Sorted(maps.Keys(byName)) {
		if state[n] == unvisited {
			if err := visit(n); err != nil {
				return nil, err
			}
		}
	}
	return order, nil
}

type depRef struct {
	name, key string
	index     int
}

// allDeps lists build deps then runtime deps, each name once.
func allDeps(r *Recipe) []depRef {
	var out []depRef
	seen := map[string]bool{}
	for _, f := range []struct {
		key  string
		list []string
	}{{"build_deps", r.BuildDeps}, {"deps", r.Deps}} {
		for i, d := range f.list {
			if !seen[d] {
				seen[d] = true
				out = append(out, depRef{d, f.key, i})
			}
		}
	}
	return out
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return 0
}

func sameFile(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if errors.Join(errA, errB) != nil {
		return a == b
	}
	return os.SameFile(fa, fb)
}

package pkgbuild

import (
	"fmt"
	"sort"
	"strings"
)

// recommends reads the source's recommends key: all (true), only these
// package names (a list), or none (absent, false, an empty list).
func (s Source) recommends() (all bool, only []string, err error) {
	switch v := s.Recommends.(type) {
	case nil:
		return false, nil, nil
	case bool:
		return v, nil, nil
	case []any:
		for _, e := range v {
			n, ok := e.(string)
			if !ok || !nameRE.MatchString(n) {
				return false, nil, fmt.Errorf("recommends: %v is not a package name", e)
			}
			only = append(only, n)
		}
		sort.Strings(only)
		return false, only, nil
	case []string: // a Source made in Go
		only = append(only, v...)
		sort.Strings(only)
		return false, only, nil
	}
	return false, nil, fmt.Errorf("recommends: want true, false or a list of package names, not %T", s.Recommends)
}

// recommendsKey is the recommends asked for, as a lock records it: true,
// the sorted list, or nil for none.
func recommendsKey(all bool, only []string) any {
	switch {
	case all:
		return true
	case len(only) > 0:
		return only
	}
	return nil
}

// sameRecommends compares what a lock was resolved with (as decoded from
// TOML) with what the recipe asks.
func sameRecommends(lock any, all bool, only []string) bool {
	l, o, err := (Source{Recommends: lock}).recommends()
	return err == nil && l == all && strings.Join(o, ",") == strings.Join(only, ",")
}

func showRecommends(v any) string {
	switch v := v.(type) {
	case nil:
		return "false"
	case bool:
		return fmt.Sprint(v)
	}
	_, only, _ := (Source{Recommends: v}).recommends()
	return fmt.Sprintf("%q", only)
}

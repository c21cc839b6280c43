package pkgbuild

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// recommendsRepo: resolver recommends rootdata and "other | alt"; ess is
// Essential (no one depends on it, as in Debian).
func recommendsRepo(t *testing.T) {
	r := newDebRepo(t)
	r.add(fakeDeb{name: "resolver", version: "1.0", fields: map[string]string{"Recommends": "rootdata, other | alt"}})
	r.add(fakeDeb{name: "rootdata", version: "2"})
	r.add(fakeDeb{name: "other", version: "3"})
	r.add(fakeDeb{name: "ess", version: "4", fields: map[string]string{"Essential": "yes"}})
	r.publish()
}

// closureNames are the kegs Closure returns for name, by package.
func closureNames(t *testing.T, b *Builder, name string) []string {
	t.Helper()
	kegs, err := Closure(b.Store(), []string{name})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range kegs {
		out = append(out, k.Name)
	}
	slices.Sort(out)
	return out
}

// TestDebRecommends: a recommended package is in the lock and the keg
// closure only when the recipe asks (true: all, as apt; a list: those);
// Debian's Essential packages always are.
func TestDebRecommends(t *testing.T) {
	recommendsRepo(t)
	b, _ := testBuilder(t, 1)
	for _, tc := range []struct {
		name, key string
		asked     any
		lock      []string
		recs      []string
	}{
		{"none", "", nil, []string{"ess", "resolver"}, nil},
		{"list", "recommends = [\"rootdata\"]\n", []string{"rootdata"}, []string{"ess", "resolver", "rootdata"}, []string{"rootdata"}},
		{"all", "recommends = true\n", true, []string{"ess", "other", "resolver", "rootdata"}, []string{"other", "rootdata"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			name := "r" + tc.name
			writeFiles(t, dir, map[string]string{name + ".toml": "name = \"" + name + "\"\n\n[[source]]\ndeb = \"resolver\"\n" + tc.key})
			recipe := filepath.Join(dir, name+".toml")
			build(t, b, recipe)
			l, err := readLock(filepath.Join(dir, name+".lock"), Source{Deb: "resolver", Version: Candidate, Recommends: tc.asked})
			if err != nil || l == nil {
				t.Fatalf("read lock: %v", err)
			}
			var pinned []string
			for _, d := range l.Debs {
				pinned = append(pinned, d.Package)
			}
			if _, err := readLock(filepath.Join(dir, name+".lock"), Source{Deb: "resolver", Version: Candidate}); (err == nil) != (tc.asked == nil) {
				t.Errorf("read the lock as without recommends: %v", err)
			}
			if k := pinned; !reflect.DeepEqual(k, tc.lock) {
				t.Errorf("lock pins %v, want %v", k, tc.lock)
			}
			want := append([]string{name}, tc.lock...)
			want = slices.DeleteFunc(want, func(s string) bool { return s == "resolver" })
			slices.Sort(want)
			if got := closureNames(t, b, name); !reflect.DeepEqual(got, want) {
				t.Errorf("keg closure %v, want %v", got, want)
			}
			k, err := Current(b.Store(), name)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(k.Deb.Recommends, tc.recs) {
				t.Errorf("keg's deb recommends %v, want %v", k.Deb.Recommends, tc.recs)
			}
		})
	}
}

// TestDebRecommendsErrors: a name the package does not recommend, a bad
// value, and a lock resolved with other recommends are errors.
func TestDebRecommendsErrors(t *testing.T) {
	recommendsRepo(t)
	b, _ := testBuilder(t, 1)
	dir := t.TempDir()
	write := func(key string) string {
		writeFiles(t, dir, map[string]string{"r.toml": "name = \"r\"\n\n[[source]]\ndeb = \"resolver\"\n" + key})
		return filepath.Join(dir, "r.toml")
	}
	if err := tryBuild(b, write("recommends = [\"ess\"]\n")); err == nil || !strings.Contains(err.Error(), "ess not among resolver's Recommends (rootdata, other, alt)") {
		t.Errorf("not recommended: %v", err)
	}
	if _, err := ParseFile(write("recommends = 3\n")); err == nil || !strings.Contains(err.Error(), "r.toml:5: recommends: want true, false or a list") {
		t.Errorf("bad value: %v", err)
	}
	build(t, b, write(""))
	if err := tryBuild(b, write("recommends = true\n")); err == nil || !strings.Contains(err.Error(), "lock was resolved with recommends = false, the recipe asks true (run unit pkg update)") {
		t.Errorf("stale lock: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "r.lock")); err != nil {
		t.Fatal(err)
	}
	build(t, b, write("recommends = true\n"))
}

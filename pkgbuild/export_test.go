package pkgbuild

import (
	"os"
	"path/filepath"
	"testing"
)

// StandardRepoForTest publishes the local apt repository of the closure
// tests (debrepo_test.go) for an external test and returns how to replace
// one of its .debs by another version, as a security update does.
func StandardRepoForTest(t *testing.T) (replace func(name, old, new string)) {
	r := standardRepo(t)
	return func(name, old, new string) {
		t.Helper()
		if err := os.Remove(filepath.Join(r.dir, "pool", name+"_"+old+"_all.deb")); err != nil {
			t.Fatal(err)
		}
		r.add(fakeDeb{name: name, version: new})
		r.publish()
	}
}

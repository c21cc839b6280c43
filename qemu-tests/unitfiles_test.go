package qemutests

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unit-os/unit/pkgbuild/pkgtest"

	"github.com/unit-os/unit/pkgbuild"
	"github.com/unit-os/unit/systemd/translate"
)

// TestUnitFilesOfBuiltPackages: every .service file of every package the
// tests build (packages/'s Debian recipes and their closures, from their
// locks) parses and translates to a [service]: no unit file Debian ships
// in them makes the parser or the translation fail. (No qemu here: it
// sits with the tests that build these packages, sharing their store.)
func TestUnitFilesOfBuiltPackages(t *testing.T) {
	recipes := pkgtest.Recipes(t, "../packages", t.TempDir())
	store, err := pkgbuild.DefaultStore()
	if err != nil {
		t.Fatal(err)
	}
	b, err := pkgbuild.NewBuilder(pkgbuild.Options{Store: store, Helper: unitBinary})
	if err != nil {
		t.Fatal(err)
	}
	locks, _ := filepath.Glob(filepath.Join(recipes, "*.lock"))
	var files []string
	for _, l := range locks {
		files = append(files, strings.TrimSuffix(l, ".lock")+".toml")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	res, err := b.Build(ctx, files)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range res {
		names = append(names, r.Recipe.Name)
	}
	kegs, err := pkgbuild.Closure(store, names)
	if err != nil {
		t.Fatal(err)
	}
	n, notes := 0, 0
	for _, k := range kegs {
		for _, dir := range []string{"lib/systemd/system", "usr/lib/systemd/system"} {
			ents, _ := os.ReadDir(filepath.Join(k.Dir, dir))
			for _, e := range ents {
				if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".service") {
					continue // aliases are links to these
				}
				name := strings.TrimSuffix(e.Name(), ".service")
				if strings.HasSuffix(name, "@") {
					name += "instance" // a template, as [service."foo@instance"]
				}
				r, err := translate.Service(k.Dir, name)
				switch {
				case err != nil:
					t.Errorf("%s: %s: %v", k.Name, e.Name(), err)
				case r == nil || r.Service == nil:
					t.Errorf("%s: %s: not found by its name", k.Name, e.Name())
				default:
					n++
					notes += len(r.Notes)
				}
			}
		}
	}
	// nginx, ssh, chrony, haproxy, redis-server, postgresql, dropbear … at least.
	if n < 7 {
		t.Fatalf("only %d unit files in %d packages", n, len(kegs))
	}
	t.Logf("%d unit files of %d packages translated; %d keys listed as not honoured", n, len(kegs), notes)
}

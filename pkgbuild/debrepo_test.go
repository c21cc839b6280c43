package pkgbuild

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// debRepo is a tiny local apt repository and an APT_CONFIG that points
// apt at it alone, so tests neither use the host's mirror nor change the
// host's apt state.
type debRepo struct {
	t    *testing.T
	dir  string // repository root: pool/ and Packages
	conf string // the APT_CONFIG file
}

type fakeDeb struct {
	name, version string
	fields        map[string]string // extra control fields: Depends, Pre-Depends, Provides
	conffile      string            // an /etc file listed in conffiles
	postinst      string            // the postinst script
}

// newDebRepo makes the repository and sets APT_CONFIG for the test.
func newDebRepo(t *testing.T) *debRepo {
	t.Helper()
	for _, tool := range []string{"dpkg-deb", "dpkg-scanpackages", "apt-get", "apt-cache"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s (apt, dpkg-dev)", tool)
		}
	}
	d := t.TempDir()
	r := &debRepo{t: t, dir: filepath.Join(d, "repo"), conf: filepath.Join(d, "apt.conf")}
	for _, sub := range []string{"repo/pool", "etc/sources.list.d", "etc/preferences.d", "etc/apt.conf.d", "lists/partial", "cache/archives/partial"} {
		if err := os.MkdirAll(filepath.Join(d, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFiles(t, d, map[string]string{
		"etc/sources.list": "deb [trusted=yes] file:" + r.dir + " ./\n",
		"status":           "",
		"apt.conf": fmt.Sprintf(`Dir::Etc::sourcelist "%[1]s/etc/sources.list";
Dir::Etc::sourceparts "%[1]s/etc/sources.list.d";
Dir::Etc::preferences "%[1]s/etc/preferences";
Dir::Etc::preferencesparts "%[1]s/etc/preferences.d";
Dir::Etc::parts "%[1]s/etc/apt.conf.d";
Dir::State::lists "%[1]s/lists";
Dir::State::status "%[1]s/status";
Dir::Cache "%[1]s/cache";
APT::Sandbox::User "root";
Acquire::Languages "none";
`, d),
	})
	t.Setenv("APT_CONFIG", r.conf)
	return r
}

// add builds a .deb into the pool (arch all, one file whose content is
// its version).
func (r *debRepo) add(p fakeDeb) string {
	r.t.Helper()
	root := filepath.Join(r.t.TempDir(), "root")
	ctrl := fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: test <t@example.org>\nPriority: optional\nDescription: test package\n", p.name, p.version)
	for k, v := range p.fields {
		ctrl += k + ": " + v + "\n"
	}
	files := map[string]string{
		"DEBIAN/control":                       ctrl,
		"usr/share/" + p.name + "/version.txt": p.version + "\n",
	}
	if p.conffile != "" {
		files["DEBIAN/conffiles"] = p.conffile + "\n"
		files[strings.TrimPrefix(p.conffile, "/")] = "setting=1\n"
	}
	if p.postinst != "" {
		files["DEBIAN/postinst"] = p.postinst
	}
	writeFiles(r.t, root, files)
	if p.postinst != "" {
		if err := os.Chmod(filepath.Join(root, "DEBIAN/postinst"), 0o755); err != nil {
			r.t.Fatal(err)
		}
	}
	deb := filepath.Join(r.dir, "pool", p.name+"_"+p.version+"_all.deb")
	if out, err := exec.Command("dpkg-deb", "--root-owner-group", "-Zgzip", "--build", root, deb).CombinedOutput(); err != nil {
		r.t.Fatalf("dpkg-deb --build %s: %v\n%s", p.name, err, out)
	}
	return deb
}

// publish indexes the pool and runs apt-get update against it.
func (r *debRepo) publish() {
	r.t.Helper()
	cmd := exec.Command("dpkg-scanpackages", "--multiversion", "pool", "/dev/null")
	cmd.Dir = r.dir
	idx, err := cmd.Output()
	if err != nil {
		r.t.Fatalf("dpkg-scanpackages: %v", err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "Packages"), idx, 0o644); err != nil {
		r.t.Fatal(err)
	}
	if out, err := exec.Command("apt-get", "update", "-qq").CombinedOutput(); err != nil {
		r.t.Fatalf("apt-get update: %v\n%s", err, out)
	}
}

// standardRepo publishes the packages the closure tests use: app needs
// prelib (Pre-Depends), libfoo >= 1.0 (versions), "missing | libbar" (an
// alternative whose first choice does not exist) and virt (a virtual
// package that provider provides).
// appPostinst is the standard repository's app's postinst.
const appPostinst = "#!/bin/sh\nadduser --system --group app\n"

func standardRepo(t *testing.T) *debRepo {
	r := newDebRepo(t)
	r.add(fakeDeb{name: "app", version: "1.0", conffile: "/etc/app.conf", postinst: appPostinst, fields: map[string]string{
		"Pre-Depends": "prelib",
		"Depends":     "libfoo (>= 1.0), missing | libbar, virt",
	}})
	r.add(fakeDeb{name: "app2", version: "3.1", fields: map[string]string{"Depends": "libfoo"}})
	r.add(fakeDeb{name: "prelib", version: "0.5"})
	r.add(fakeDeb{name: "libfoo", version: "1.0"})
	r.add(fakeDeb{name: "libbar", version: "2.2", fields: map[string]string{"Depends": "libfoo"}})
	r.add(fakeDeb{name: "provider", version: "7", fields: map[string]string{"Provides": "virt"}})
	r.publish()
	return r
}

package deb

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func needDpkgDeb(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("no dpkg-deb")
	}
	if os.Getuid() != 0 {
		t.Skip("dpkg-deb -x keeps modes as root only")
	}
}

// buildTree lays out a package tree with what trips extractors up.
func buildTree(t *testing.T) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "pkg")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"DEBIAN", "etc/demo", "usr/bin", "usr/share/odd/deep/er", "usr/lib/demo"} {
		must(os.MkdirAll(filepath.Join(src, d), 0o755))
	}
	write := func(name, data string, mode os.FileMode) {
		t.Helper()
		p := filepath.Join(src, name)
		must(os.WriteFile(p, []byte(data), 0o600))
		must(os.Chmod(p, mode))
	}
	write("DEBIAN/control", "Package: demo\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: demo\n", 0o644)
	write("DEBIAN/conffiles", "/etc/demo/demo.conf\n", 0o644)
	write("DEBIAN/postinst", "#!/bin/sh\nset -e\necho configured\n", 0o755)
	write("etc/demo/demo.conf", "key = value\n", 0o644)
	write("usr/bin/demo", "#!/bin/sh\necho demo\n", 0o755)
	write("usr/bin/su-demo", "setuid\n", 0o755|os.ModeSetuid)
	write("usr/bin/sg-demo", "setgid\n", 0o755|os.ModeSetgid)
	write("usr/lib/demo/empty", "", 0o644)
	write("usr/lib/demo/"+strings.Repeat("long-name-", 20)+"end", "long\n", 0o640)
	write("usr/share/odd/deep/er/big", strings.Repeat("0123456789abcdef", 1<<14), 0o444)
	must(os.Link(filepath.Join(src, "usr/bin/demo"), filepath.Join(src, "usr/bin/demo-again")))
	must(os.Symlink("demo", filepath.Join(src, "usr/bin/demo-link")))
	must(os.Symlink("/etc/demo/demo.conf", filepath.Join(src, "usr/lib/demo/abs-link")))
	must(os.Symlink("../../nowhere/../..", filepath.Join(src, "usr/lib/demo/dangling")))
	must(os.Chmod(filepath.Join(src, "usr/share/odd/deep"), 0o711))
	must(os.Chmod(filepath.Join(src, "usr/share/odd"), 0o1777))
	must(os.Chmod(filepath.Join(src, "usr/share/odd/deep/er"), 0o555))
	return src
}

func dpkgDeb(t *testing.T, args ...string) []byte {
	t.Helper()
	out, err := exec.Command("dpkg-deb", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return out
}

// walk describes every path of a tree: type, mode, link target or sha256.
func walk(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		desc := info.Mode().String()
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			desc += " -> " + target
		case info.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			desc += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		out[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestExtractMatchesDpkgDeb(t *testing.T) {
	needDpkgDeb(t)
	src := buildTree(t)
	for _, z := range []string{"xz", "gzip", "zstd", "none"} {
		t.Run(z, func(t *testing.T) {
			dir := t.TempDir()
			debPath := filepath.Join(dir, "demo.deb")
			dpkgDeb(t, "--root-owner-group", "-Z"+z, "--build", src, debPath)
			want := filepath.Join(dir, "want")
			dpkgDeb(t, "-x", debPath, want)

			p, err := Open(debPath)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			got := filepath.Join(dir, "got")
			if err := p.Extract(got); err != nil {
				t.Fatal(err)
			}
			// Again over the first: what is there is replaced, as by tar.
			if err := p.Extract(got); err != nil {
				t.Fatalf("extract over an earlier extraction: %v", err)
			}
			w, g := walk(t, want), walk(t, got)
			delete(w, ".") // made by each extractor, not the archive
			delete(g, ".")
			compare(t, w, g)
			var st1, st2 os.FileInfo
			st1, _ = os.Stat(filepath.Join(got, "usr/bin/demo"))
			st2, _ = os.Stat(filepath.Join(got, "usr/bin/demo-again"))
			if !os.SameFile(st1, st2) {
				t.Errorf("usr/bin/demo-again is not a hard link of usr/bin/demo")
			}

			ctl, err := p.Control(1<<20, "control", "conffiles", "postinst", "nonesuch")
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range []string{"control", "conffiles", "postinst"} {
				if want := dpkgDeb(t, "-I", debPath, m); !bytes.Equal(ctl[m], want) {
					t.Errorf("control member %s: got %q, dpkg-deb -I says %q", m, ctl[m], want)
				}
			}
			if _, ok := ctl["nonesuch"]; ok {
				t.Errorf("a member the archive lacks was returned")
			}
			if _, err := p.ControlFile("postinst", 10); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "postinst") {
				t.Errorf("postinst over its bound: %v, want ErrTooLarge naming it", err)
			}
			if _, err := p.ControlFile("preinst", 10); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("missing member: %v, want ErrNotExist", err)
			}
		})
	}
}

func compare(t *testing.T, want, got map[string]string) {
	t.Helper()
	var names []string
	for n := range want {
		names = append(names, n)
	}
	for n := range got {
		if _, ok := want[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		if want[n] != got[n] {
			t.Errorf("%s: got %q, dpkg-deb -x made %q", n, got[n], want[n])
		}
	}
}

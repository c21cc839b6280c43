package ldso

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// hostileRoot builds a root whose links try to leave it.
func hostileRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "etc/marker"), "inside")
	writeFile(t, filepath.Join(root, "usr/lib/real.so"), "lib")
	for link, target := range map[string]string{
		"lib":              "../../../../etc",
		"usr/lib/abs.so":   "/etc/passwd",
		"usr/lib/host":     "/usr/lib/x86_64-linux-gnu",
		"usr/lib/loop1.so": "loop2.so",
		"usr/lib/loop2.so": "loop1.so",
		"usr/lib/self":     "self",
		"usr/lib/ok.so":    "./../lib/real.so",
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func hostileTree(t *testing.T) *Tree {
	tr, err := NewTree(map[string]Entry{
		"/etc/marker":          {Host: "testdata/marker"},
		"/lib":                 {Link: "../../../../etc"},
		"/usr/lib/real.so":     {Host: "testdata/marker"},
		"/usr/lib/abs.so":      {Link: "/etc/passwd"},
		"/usr/lib/host":        {Link: "/usr/lib/x86_64-linux-gnu"},
		"/usr/lib/loop1.so":    {Link: "loop2.so"},
		"/usr/lib/loop2.so":    {Link: "loop1.so"},
		"/usr/lib/self":        {Link: "self"},
		"/usr/lib/ok.so":       {Link: "./../lib/real.so"},
		"/usr/lib/hostlink.so": {Host: "testdata/marker-link"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func views(t *testing.T) map[string]View {
	dv, err := OpenDir(hostileRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dv.Close() })
	return map[string]View{"dir": dv, "tree": hostileTree(t)}
}

func TestResolveStaysInRoot(t *testing.T) {
	for name, v := range views(t) {
		t.Run(name, func(t *testing.T) {
			// "../../../../etc" climbs to the root and no further.
			got, links, err := Resolve(v, "/lib/marker")
			if err != nil || got != "/etc/marker" || len(links) != 1 || links[0] != "/lib" {
				t.Fatalf("Resolve(/lib/marker) = %q %v %v", got, links, err)
			}
			f, err := v.Open(got)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(io.NewSectionReader(f, 0, 100))
			f.Close()
			if string(b) != "inside\n" && string(b) != "inside" {
				t.Fatalf("read %q, want the root's own marker", b)
			}
			// The host has /etc/passwd; the root does not: refused.
			for _, p := range []string{"/lib/passwd", "/usr/lib/abs.so", "/usr/lib/host/libc.so.6"} {
				if got, _, err := Resolve(v, p); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("Resolve(%s) = %q, %v; want not-exist inside the root", p, got, err)
				}
			}
			for _, p := range []string{"/usr/lib/loop1.so", "/usr/lib/self"} {
				if _, _, err := Resolve(v, p); !errors.Is(err, ErrLoop) {
					t.Errorf("Resolve(%s): %v, want ErrLoop", p, err)
				}
			}
			got, links, err = Resolve(v, "/usr/lib/ok.so")
			if err != nil || got != "/usr/lib/real.so" || len(links) != 1 {
				t.Fatalf("Resolve(ok.so) = %q %v %v", got, links, err)
			}
		})
	}
}

// TestClosureRefusesHostFiles: a library link pointing at a host path is
// missing, never read from the host.
func TestClosureRefusesHostFiles(t *testing.T) {
	for name, v := range views(t) {
		t.Run(name, func(t *testing.T) {
			res, err := Closure(v, []string{"/usr/lib/abs.so", "/usr/lib/host/libc.so.6"}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Missing) != 2 {
				t.Fatalf("missing = %v, want both roots missing", res.Missing)
			}
		})
	}
}

// TestDirViewRefusesEscape: even called directly, bypassing Resolve, the
// dir view cannot be made to read outside its root.
func TestDirViewRefusesEscape(t *testing.T) {
	v, err := OpenDir(hostileRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if f, err := v.Open("/usr/lib/host/libc.so.6"); err == nil {
		f.Close()
		t.Fatal("opened a host file through an absolute link")
	}
	if _, err := v.Lstat("/usr/lib/host/libc.so.6"); err == nil {
		t.Fatal("lstat through an absolute link succeeded")
	}
	if f, err := v.Open("/usr/lib/abs.so"); err == nil {
		f.Close()
		t.Fatal("opened a symlink")
	}
}

// TestTreeRefusesHostSymlink: a Tree entry whose host file is a symlink is
// refused rather than followed.
func TestTreeRefusesHostSymlink(t *testing.T) {
	tr := hostileTree(t)
	if f, err := tr.Open("/usr/lib/hostlink.so"); err == nil {
		f.Close()
		t.Fatal("Tree opened a host symlink")
	}
	if _, err := tr.Lstat("/usr/lib/hostlink.so"); err == nil {
		t.Fatal("Tree lstat accepted a host symlink")
	}
	names, err := tr.ReadDir("/usr/lib")
	if err != nil || len(names) != 8 {
		t.Fatalf("ReadDir(/usr/lib) = %v, %v", names, err)
	}
}

func TestNewTreeRejectsBadPaths(t *testing.T) {
	for _, m := range []map[string]Entry{
		{"/": {Host: "testdata/marker"}},
		{"relative": {Host: "testdata/marker"}},
		{"/a/../etc/passwd": {Host: "testdata/marker"}},
		{"/a": {}},
		{"/a": {Host: "testdata/marker", Link: "b"}},
		{"/a": {Link: "b"}, "/a/c": {Host: "testdata/marker"}},
	} {
		if _, err := NewTree(m); err == nil {
			t.Errorf("NewTree(%v) accepted a bad tree", m)
		}
	}
}

// TestMalformedELF: a truncated ELF as a program is an error, and as a
// library candidate it is skipped, as ld.so skips it.
func TestMalformedELF(t *testing.T) {
	bad := writeTemp(t, "\x7fELF\x02\x01\x01garbage")
	tr, err := NewTree(map[string]Entry{"/usr/bin/bad": {Host: bad}, "/usr/lib/libbad.so.1": {Host: bad}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Closure(tr, []string{"/usr/bin/bad"}, Options{}); err == nil {
		t.Fatal("a truncated ELF program was accepted")
	}
	entries, err := CacheEntries(tr, []string{"/usr/lib"})
	if err != nil || len(entries) != 0 {
		t.Fatalf("cache of a malformed library = %v, %v", entries, err)
	}
}

package ldso

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

// cacheRoot copies a few host libraries (real file and soname link) into
// a new root, one of them into a dir only ld.so.conf.d names.
func cacheRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	lib := "/usr/lib/x86_64-linux-gnu"
	for soname, dir := range map[string]string{
		"libz.so.1": lib, "libpcre2-8.so.0": lib, "libselinux.so.1": lib, "libcom_err.so.2": "/opt/x",
	} {
		real, err := filepath.EvalSymlinks(filepath.Join(lib, soname))
		if err != nil {
			t.Skipf("host lacks %s: %v", soname, err)
		}
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		copyFile(t, real, filepath.Join(root, dir, filepath.Base(real)))
		if filepath.Base(real) != soname {
			if err := os.Symlink(filepath.Base(real), filepath.Join(root, dir, soname)); err != nil {
				t.Fatal(err)
			}
		}
	}
	writeFile(t, filepath.Join(root, lib, "libnot.so"), "INPUT(libz.so.1)\n") // a linker script: not a library
	writeFile(t, filepath.Join(root, "etc/ld.so.conf"), "include /etc/ld.so.conf.d/*.conf\n")
	writeFile(t, filepath.Join(root, "etc/ld.so.conf.d/x.conf"), "/opt/x\n")
	return root
}

// TestCacheMatchesLdconfig compares our entries with Debian's ldconfig on
// the same root. Not byte for byte: ldconfig lays out its string table by
// its own hashing and appends a generator extension ("ldconfig (Debian
// GLIBC ...)"), neither of which the loader reads for lookups.
func TestCacheMatchesLdconfig(t *testing.T) {
	ldconfig, err := exec.LookPath("ldconfig")
	if err != nil {
		t.Skip("ldconfig is not installed")
	}
	root := cacheRoot(t)
	if out, err := exec.Command(ldconfig, "-r", root, "-C", "/etc/ref.cache", "-f", "/etc/ld.so.conf", "-X").CombinedOutput(); err != nil {
		t.Fatalf("ldconfig: %v\n%s", err, out)
	}
	ref, err := os.ReadFile(filepath.Join(root, "etc/ref.cache"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := ParseCache(ref)
	if err != nil {
		t.Fatal(err)
	}
	v, err := OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	ours, err := WriteCache(v, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseCache(ours)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || !reflect.DeepEqual(got, want) {
		t.Fatalf("entries differ\n got: %v\nwant: %v", got, want)
	}
	again, err := WriteCache(v, nil)
	if err != nil || !bytes.Equal(again, ours) {
		t.Fatalf("WriteCache is not deterministic: %v", err)
	}
}

func TestLibcmp(t *testing.T) {
	for _, c := range []struct {
		a, b string
		sign int
	}{
		{"libz.so.10", "libz.so.9", 1},
		{"libz.so.1", "libz.so.1", 0},
		{"libz.so.1", "libz.so.1.2", -1},
		{"liba.so", "libb.so", -1},
		{"lib1.so", "liba.so", 1},
	} {
		got := libcmp(c.a, c.b)
		if (got > 0) != (c.sign > 0) || (got < 0) != (c.sign < 0) {
			t.Errorf("libcmp(%q, %q) = %d, want sign %d", c.a, c.b, got, c.sign)
		}
	}
}

func TestParseCacheRejectsGarbage(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("ld.so-1.7.0"), append([]byte(cacheMagic), bytes.Repeat([]byte{0xff}, 40)...)} {
		if _, err := ParseCache(b); err == nil {
			t.Errorf("ParseCache(%q) accepted garbage", b)
		}
	}
}

func TestConfErrorsNameFileAndLine(t *testing.T) {
	m := map[string]Entry{
		"/etc/ld.so.conf":          {Host: writeTemp(t, "include ld.so.conf.d/*.conf\n")},
		"/etc/ld.so.conf.d/a.conf": {Host: writeTemp(t, "/opt/a # comment\n\nrelative/dir\n")},
	}
	tr, err := NewTree(m)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ConfDirs(tr)
	if err == nil || err.Error() != `/etc/ld.so.conf.d/a.conf:3: "relative/dir" is not an absolute directory` {
		t.Fatalf("err = %v", err)
	}
	m["/etc/ld.so.conf.d/a.conf"] = Entry{Host: writeTemp(t, "/opt/a:/opt/b\n/opt/a\n")}
	m["/etc/ld.so.conf.d/b.conf"] = Entry{Host: writeTemp(t, "/opt/c\n")}
	if tr, err = NewTree(m); err != nil {
		t.Fatal(err)
	}
	dirs, err := ConfDirs(tr)
	if err != nil || !reflect.DeepEqual(dirs, []string{"/opt/a", "/opt/b", "/opt/c"}) {
		t.Fatalf("ConfDirs = %v, %v", dirs, err)
	}
}

// TestCacheOverTree: the cache of a map-backed view equals the cache of
// the same files on disk.
func TestCacheOverTree(t *testing.T) {
	root := cacheRoot(t)
	m := map[string]Entry{}
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		guest := "/" + filepath.ToSlash(p[len(root)+1:])
		if fi.Mode()&os.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			m[guest] = Entry{Link: target}
			return err
		}
		m[guest] = Entry{Host: p}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTree(m)
	if err != nil {
		t.Fatal(err)
	}
	v, err := OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	fromDir, err := WriteCache(v, nil)
	if err != nil {
		t.Fatal(err)
	}
	fromTree, err := WriteCache(tr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fromDir, fromTree) {
		t.Fatal("Tree and DirView caches differ")
	}
	entries, _ := ParseCache(fromTree)
	if len(entries) != 4 || entries[0].Soname != "libz.so.1" || entries[0].Flags != FlagX8664 {
		t.Fatalf("entries = %v", entries)
	}
}

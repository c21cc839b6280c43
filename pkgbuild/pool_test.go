package pkgbuild

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// cachedDeb builds a .deb of files with dpkg-deb and puts it in b's
// download cache, so debFile finds it without apt.
// links are hard links to make, new name then existing one.
func cachedDeb(t *testing.T, b *Builder, name, version string, files map[string]string, links ...[2]string) DebInfo {
	t.Helper()
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("no dpkg-deb")
	}
	root := filepath.Join(t.TempDir(), "root")
	files["DEBIAN/control"] = "Package: " + name + "\nVersion: " + version + "\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: t\n"
	writeFiles(t, root, files)
	for _, l := range links {
		if err := os.Link(filepath.Join(root, l[1]), filepath.Join(root, l[0])); err != nil {
			t.Fatal(err)
		}
	}
	deb := filepath.Join(t.TempDir(), name+".deb")
	if out, err := exec.Command("dpkg-deb", "--root-owner-group", "-Zxz", "--build", root, deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb --build: %v\n%s", err, out)
	}
	sum, err := FileSHA256(deb)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(deb)
	os.MkdirAll(filepath.Join(b.cache, "sources"), 0o755)
	if err := os.WriteFile(filepath.Join(b.cache, "sources", sum), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return DebInfo{Package: name, Version: version, Arch: "all", SHA256: sum, Filename: name + ".deb"}
}

func nlink(t *testing.T, p string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st.Nlink
}

func TestStorePoolsDebFiles(t *testing.T) {
	b, _ := testBuilder(t, 2)
	shared := "the same license text\n"
	da := cachedDeb(t, b, "pa", "1.0", map[string]string{"usr/share/doc/pa/copyright": shared, "usr/bin/pa": "a only\n"})
	db := cachedDeb(t, b, "pb", "2.0", map[string]string{"usr/share/doc/pb/copyright": shared, "usr/bin/pb": "b only\n"})
	l := &Lock{Top: "top", Debs: []DebInfo{da, db, {Package: "top"}}}
	kegs, err := b.closureKegs(context.Background(), l, "x.lock", "x")
	if err != nil {
		t.Fatal(err)
	}
	ka, kb := kegs["pa"], kegs["pb"]
	if ka == nil || kb == nil || len(kegs) != 2 {
		t.Fatalf("kegs: %v", kegs)
	}
	pool, _ := filepath.Glob(filepath.Join(b.store, filesDir, "*"))
	if len(pool) != 3 {
		t.Errorf("pool holds %d files, want 3 (one shared, one of each): %v", len(pool), pool)
	}
	ca := filepath.Join(ka.Dir, "usr/share/doc/pa/copyright")
	if n := nlink(t, ca); n != 3 {
		t.Errorf("shared file: %d links, want 3 (pool and two kegs)", n)
	}
	if n := nlink(t, filepath.Join(ka.Dir, "usr/bin/pa")); n != 2 {
		t.Errorf("a file of one keg: %d links, want 2", n)
	}
	sa, _ := os.Stat(ca)
	sb, _ := os.Stat(filepath.Join(kb.Dir, "usr/share/doc/pb/copyright"))
	if !os.SameFile(sa, sb) {
		t.Errorf("the shared file is two files")
	}
	// The keg is as normalized: every time the epoch, the metadata its own.
	for _, k := range []*Keg{ka, kb} {
		dg, err := Digest(k.Dir)
		if err != nil {
			t.Fatal(err)
		}
		filepath.Walk(k.Dir, func(p string, info os.FileInfo, err error) error {
			if err == nil && info.ModTime().Unix() != DefaultEpoch {
				t.Errorf("%s: time %v, want the epoch", p, info.ModTime())
			}
			return nil
		})
		if len(dg) == 0 {
			t.Fatal("empty digest")
		}
		if n := nlink(t, filepath.Join(k.Dir, MetaName)); n != 1 {
			t.Errorf("%s is pooled", MetaName)
		}
	}

	// gc with pa the only root: pb's keg goes, and with it the pool file
	// only pb linked; the shared one stays, linked by pa alone.
	if err := setCurrent(b.store, ka); err != nil {
		t.Fatal(err)
	}
	removed, err := GC(b.store, []string{"pa"})
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != kb.Dir {
		t.Errorf("gc removed %v, want %s", removed, kb.Dir)
	}
	pool, _ = filepath.Glob(filepath.Join(b.store, filesDir, "*"))
	if len(pool) != 2 {
		t.Errorf("pool after gc holds %v, want pa's two files", pool)
	}
	if n := nlink(t, ca); n != 2 {
		t.Errorf("shared file after gc: %d links, want 2", n)
	}
	if b, err := os.ReadFile(ca); err != nil || string(b) != shared {
		t.Errorf("pa's file after gc: %q, %v", b, err)
	}
}

// Two builds over one store making the same kegs at once: each gets the
// keg, one rename wins, and the pool holds each file once.
func TestClosureKegsConcurrent(t *testing.T) {
	b1, _ := testBuilder(t, 4)
	b2, err := NewBuilder(Options{Store: b1.store, Cache: b1.cache, Jobs: 4})
	if err != nil {
		t.Fatal(err)
	}
	var debs []DebInfo
	for _, n := range []string{"c1", "c2", "c3", "c4", "c5"} {
		debs = append(debs, cachedDeb(t, b1, n, "1", map[string]string{"usr/share/common": "same\n", "usr/bin/" + n: n + "\n"}))
	}
	l := &Lock{Top: "none", Debs: debs}
	got := make([]map[string]*Keg, 2)
	errs := make([]error, 2)
	done := make(chan int)
	for i, b := range []*Builder{b1, b2} {
		go func() {
			got[i], errs[i] = b.closureKegs(context.Background(), l, "x.lock", "x")
			done <- i
		}()
	}
	<-done
	<-done
	for i := range got {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if len(got[i]) != len(debs) {
			t.Fatalf("build %d: %d kegs, want %d", i, len(got[i]), len(debs))
		}
	}
	for _, d := range debs {
		if got[0][d.Package].Dir != got[1][d.Package].Dir {
			t.Errorf("%s: two kegs %s and %s", d.Package, got[0][d.Package].Dir, got[1][d.Package].Dir)
		}
	}
	if n := nlink(t, filepath.Join(got[0]["c1"].Dir, "usr/share/common")); n != uint64(len(debs)+1) {
		t.Errorf("shared file: %d links, want %d (pool and each keg once)", n, len(debs)+1)
	}
	if left, _ := filepath.Glob(filepath.Join(b1.store, ".tmp", "*")); len(left) > 0 {
		t.Errorf("temp dirs left: %v", left)
	}
}

// Every package's failure is reported, not only the first.
func TestClosureKegsJoinsErrors(t *testing.T) {
	b, _ := testBuilder(t, 2)
	var debs []DebInfo
	for _, n := range []string{"bad1", "bad2"} {
		p := filepath.Join(t.TempDir(), n)
		if err := os.WriteFile(p, []byte("not a deb "+n), 0o644); err != nil {
			t.Fatal(err)
		}
		sum, _ := FileSHA256(p)
		os.MkdirAll(filepath.Join(b.cache, "sources"), 0o755)
		if err := os.Rename(p, filepath.Join(b.cache, "sources", sum)); err != nil {
			t.Fatal(err)
		}
		debs = append(debs, DebInfo{Package: n, Version: "1", SHA256: sum, Filename: n + ".deb"})
	}
	_, err := b.closureKegs(context.Background(), &Lock{Top: "none", Debs: debs}, "x.lock", "x")
	for _, n := range []string{"bad1: ", "bad2: ", "no ar magic"} {
		if err == nil || !strings.Contains(err.Error(), n) {
			t.Errorf("error %v: want %q in it", err, n)
		}
	}
}

// A .deb's own hard links end up one pool file: the two names and the pool.
func TestStorePoolsHardLinks(t *testing.T) {
	b, _ := testBuilder(t, 1)
	d := cachedDeb(t, b, "ph", "1", map[string]string{"usr/bin/x": "x\n", "usr/bin/z": "z\n"},
		[2]string{"usr/bin/y", "usr/bin/x"}, [2]string{"usr/bin/w", "usr/bin/z"})
	k, err := b.debKeg(context.Background(), d, "x.lock", "x")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"usr/bin/y", "usr/bin/w"} {
		if n := nlink(t, filepath.Join(k.Dir, f)); n != 3 {
			t.Errorf("hard-linked file %s: %d links, want 3", f, n)
		}
	}
}

package ldso

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gccTree compiles small ELF objects and maps them into a Tree, with the
// host's libc and loader so the closures are complete.
type gccTree struct {
	t     *testing.T
	build string
	tree  map[string]Entry
}

func newGCCTree(t *testing.T) *gccTree {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc is not installed: the synthetic ELF tests need it")
	}
	g := &gccTree{t: t, build: t.TempDir(), tree: map[string]Entry{}}
	for guest, host := range map[string]string{
		"/usr/lib/x86_64-linux-gnu/libc.so.6":            "/lib/x86_64-linux-gnu/libc.so.6",
		"/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2": "/lib64/ld-linux-x86-64.so.2",
		"/usr/lib64/ld-linux-x86-64.so.2":                "",
		"/lib":                                           "",
		"/lib64":                                         "",
	} {
		switch guest {
		case "/lib", "/lib64":
			g.tree[guest] = Entry{Link: "usr" + guest}
		case "/usr/lib64/ld-linux-x86-64.so.2":
			g.tree[guest] = Entry{Link: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"}
		default:
			real, err := filepath.EvalSymlinks(host)
			if err != nil {
				t.Skipf("host has no %s: %v", host, err)
			}
			g.tree[guest] = Entry{Host: real}
		}
	}
	return g
}

// cc builds name from C source with args and maps it at guest.
func (g *gccTree) cc(guest, name, src string, args ...string) {
	g.t.Helper()
	c := filepath.Join(g.build, name+".c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		g.t.Fatal(err)
	}
	out := filepath.Join(g.build, name)
	cmd := exec.Command("gcc", append([]string{"-o", out, c, "-L" + g.build}, args...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		g.t.Fatalf("gcc %s: %v\n%s", name, err, b)
	}
	if guest != "" {
		g.tree[guest] = Entry{Host: out}
	}
}

func (g *gccTree) closure(root string) *Result {
	g.t.Helper()
	tr, err := NewTree(g.tree)
	if err != nil {
		g.t.Fatal(err)
	}
	res, err := Closure(tr, []string{root}, Options{ConfDirs: []string{}})
	if err != nil {
		g.t.Fatal(err)
	}
	return res
}

func hasFile(r *Result, p string) bool { return contains(r.Files, p) }

func TestSearchOrder(t *testing.T) {
	g := newGCCTree(t)
	lib := "/usr/lib/x86_64-linux-gnu"
	// libb.so.1 exists twice: in the default dir and in /opt/rp.
	g.cc(lib+"/libb.so.1", "libb.so", "int b(void){return 1;}", "-shared", "-fPIC", "-Wl,-soname,libb.so.1")
	g.tree["/opt/rp/libb.so.1"] = g.tree[lib+"/libb.so.1"]
	// liba.so.1, in the default dir, needs libb and has no paths of its own.
	g.cc(lib+"/liba.so.1", "liba.so", "int b(void); int a(void){return b();}", "-shared", "-fPIC", "-Wl,-soname,liba.so.1", "-lb")
	main := "int a(void); int main(void){return a();}"

	// DT_RPATH of the program is inherited by liba's search for libb.
	// Only liba needs libb; the link editor finds it through -rpath-link.
	if err := os.Symlink("libb.so", filepath.Join(g.build, "libb.so.1")); err != nil {
		t.Fatal(err)
	}
	g.cc("/usr/bin/rpath", "rpath", main, "-la", "-Wl,--disable-new-dtags,-rpath,/opt/rp", "-Wl,-rpath-link,"+g.build)
	r := g.closure("/usr/bin/rpath")
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if !hasFile(r, "/opt/rp/libb.so.1") || hasFile(r, lib+"/libb.so.1") {
		t.Errorf("RPATH: libb should come from /opt/rp (inherited): %v", r.Files)
	}

	// DT_RUNPATH applies to the program's own NEEDED only: liba finds
	// libb in the default dir.
	g.cc("/usr/bin/runpath", "runpath", main, "-la", "-Wl,--enable-new-dtags,-rpath,/opt/rp", "-Wl,-rpath-link,"+g.build)
	r = g.closure("/usr/bin/runpath")
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if hasFile(r, "/opt/rp/libb.so.1") || !hasFile(r, lib+"/libb.so.1") {
		t.Errorf("RUNPATH: libb should come from the default dir: %v", r.Files)
	}

	// $ORIGIN, and a non-ELF candidate earlier in the path is skipped.
	g.cc("", "libc3.so", "int c3(void){return 3;}", "-shared", "-fPIC", "-Wl,-soname,libc3.so.1")
	g.tree["/app/lib/libc3.so.1"] = Entry{Host: filepath.Join(g.build, "libc3.so")}
	g.tree["/app/junk/libc3.so.1"] = Entry{Host: "testdata/marker"}
	g.cc("/app/bin/origin", "origin", "int c3(void); int main(void){return c3();}",
		"-lc3", `-Wl,--enable-new-dtags,-rpath,$ORIGIN/../junk:${ORIGIN}/../lib`)
	r = g.closure("/app/bin/origin")
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if !hasFile(r, "/app/lib/libc3.so.1") || hasFile(r, "/app/junk/libc3.so.1") {
		t.Errorf("$ORIGIN: want /app/lib/libc3.so.1 only: %v", r.Files)
	}
	for _, want := range []string{"/lib64", "/usr/lib64/ld-linux-x86-64.so.2", "/lib", lib + "/ld-linux-x86-64.so.2", lib + "/libc.so.6"} {
		if !hasFile(r, want) {
			t.Errorf("closure lacks %s: %v", want, r.Files)
		}
	}

	// $LIB and $PLATFORM expand as on Debian.
	g.cc("", "libd.so", "int d(void){return 4;}", "-shared", "-fPIC", "-Wl,-soname,libd.so.1")
	g.tree["/x/lib/x86_64-linux-gnu/libd.so.1"] = Entry{Host: filepath.Join(g.build, "libd.so")}
	g.tree["/y/x86_64/libd.so.1"] = Entry{Host: filepath.Join(g.build, "libd.so")}
	g.cc("/usr/bin/dst", "dst", "int d(void); int main(void){return d();}", "-ld", `-Wl,-rpath,/x/$LIB`)
	g.cc("/usr/bin/plat", "plat", "int d(void); int main(void){return d();}", "-ld", `-Wl,-rpath,/y/${PLATFORM}`)
	if r := g.closure("/usr/bin/dst"); r.Err() != nil || !hasFile(r, "/x/lib/x86_64-linux-gnu/libd.so.1") {
		t.Errorf("$LIB: %v %v", r.Err(), r.Files)
	}
	if r := g.closure("/usr/bin/plat"); r.Err() != nil || !hasFile(r, "/y/x86_64/libd.so.1") {
		t.Errorf("$PLATFORM: %v %v", r.Err(), r.Files)
	}

	// An unresolved name says who needs it, by the path ld.so found it under
	// (the first default dir, through the /lib link).
	delete(g.tree, lib+"/libb.so.1")
	r = g.closure("/usr/bin/runpath")
	if len(r.Missing) != 1 || r.Missing[0].String() != "/lib/x86_64-linux-gnu/liba.so.1 needs libb.so.1" {
		t.Fatalf("missing = %v", r.Missing)
	}
	// A missing interpreter is reported the same way.
	delete(g.tree, "/usr/lib64/ld-linux-x86-64.so.2")
	r = g.closure("/usr/bin/rpath")
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), "/usr/bin/rpath needs /lib64/ld-linux-x86-64.so.2") {
		t.Fatalf("missing interpreter: %v", err)
	}
}

func TestScriptInterpreters(t *testing.T) {
	g := newGCCTree(t)
	g.cc("/usr/bin/env", "env", "int main(void){return 0;}")
	g.tree["/usr/bin/python3"] = g.tree["/usr/bin/env"]
	g.tree["/srv/run.py"] = Entry{Host: writeTemp(t, "#!/usr/bin/env python3\nprint(1)\n")}
	g.tree["/srv/run.sh"] = Entry{Host: writeTemp(t, "#!/bin/sh -e\n")}
	r := g.closure("/srv/run.py")
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if !hasFile(r, "/usr/bin/python3") || !hasFile(r, "/usr/bin/env") {
		t.Fatalf("env interpreter: %v", r.Files)
	}
	r = g.closure("/srv/run.sh")
	if len(r.Missing) != 1 || r.Missing[0].String() != "/srv/run.sh needs /bin/sh" {
		t.Fatalf("missing /bin/sh: %v", r.Missing)
	}
}

func writeTemp(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "f")
	writeFile(t, p, content)
	return p
}

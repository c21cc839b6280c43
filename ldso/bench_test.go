package ldso

import (
	"os"
	"testing"
)

// BenchmarkClosure computes the closure of a handful of the host's
// dynamically linked programs over a view of /, as the image builder
// would for an image's daemons.
func BenchmarkClosure(b *testing.B) {
	roots := benchRoots(b)
	v := hostView(b)
	b.ReportAllocs()
	for b.Loop() {
		res, err := Closure(v, roots, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Files) < len(roots) {
			b.Fatalf("closure too small: %v", res.Files)
		}
	}
	b.ReportMetric(float64(len(roots)), "programs")
}

func benchRoots(b *testing.B) []string {
	var roots []string
	for _, p := range []string{"/usr/bin/ssh", "/usr/bin/curl", "/usr/bin/git", "/usr/sbin/sshd",
		"/usr/bin/gpg", "/usr/bin/tar", "/usr/bin/python3", "/usr/bin/perl", "/usr/bin/gcc", "/usr/bin/bash"} {
		if _, err := os.Stat(p); err == nil {
			roots = append(roots, p)
		}
	}
	if len(roots) == 0 {
		b.Skip("none of the benchmark programs is installed")
	}
	return roots
}

// hostTree maps the host's program and library dirs (top level only) into
// a Tree, as the image builder maps keg files.
func hostTree(b *testing.B) *Tree {
	m := map[string]Entry{
		"/lib":                            {Link: "usr/lib"},
		"/lib64":                          {Link: "usr/lib64"},
		"/usr/lib64/ld-linux-x86-64.so.2": {Link: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"},
	}
	for _, dir := range []string{"/usr/bin", "/usr/sbin", "/usr/lib/x86_64-linux-gnu"} {
		ents, err := os.ReadDir(dir)
		if err != nil {
			b.Skipf("read %s: %v", dir, err)
		}
		for _, e := range ents {
			p := dir + "/" + e.Name()
			switch {
			case e.Type()&os.ModeSymlink != 0:
				target, err := os.Readlink(p)
				if err != nil {
					b.Fatal(err)
				}
				m[p] = Entry{Link: target}
			case e.Type().IsRegular():
				m[p] = Entry{Host: p}
			}
		}
	}
	t, err := NewTree(m)
	if err != nil {
		b.Fatal(err)
	}
	return t
}

// BenchmarkClosureTree is BenchmarkClosure over a map-backed Tree.
func BenchmarkClosureTree(b *testing.B) {
	v := hostTree(b)
	roots := benchRoots(b)
	b.ReportAllocs()
	for b.Loop() {
		res, err := Closure(v, roots, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Files) < len(roots) {
			b.Fatalf("closure too small: %v", res.Files)
		}
	}
	b.ReportMetric(float64(len(roots)), "programs")
	b.ReportMetric(float64(len(v.entries)), "tree-files")
}

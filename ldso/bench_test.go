package ldso

import (
	"os"
	"testing"
)

// BenchmarkClosure computes the closure of a handful of the host's
// dynamically linked programs over a view of /, as the image builder
// would for an image's daemons.
func BenchmarkClosure(b *testing.B) {
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

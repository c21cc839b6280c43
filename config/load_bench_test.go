package config

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// filesConfig writes n [file] resources into one files.toml in a fresh
// directory, as bench/cm.sh generates them.
func filesConfig(tb testing.TB, n int) string {
	tb.Helper()
	dir := tb.TempDir()
	var b []byte
	for i := range n {
		b = fmt.Appendf(b, "[file.\"/srv/u/d%03d/f%05d\"]\ncontent = \"managed file %d\\n\"\nmode = \"0644\"\n", i/100, i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "files.toml"), b, 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// BenchmarkLoadFiles loads and validates n file resources, as
// `unit apply --once` does first; ns/resource should not grow with n.
//
//	go test -run X -bench LoadFiles -benchmem ./config/
func BenchmarkLoadFiles(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			dir := filesConfig(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				c, err := Load(dir)
				if err != nil {
					b.Fatal(err)
				}
				if len(c.Files) != n {
					b.Fatalf("%d files, want %d", len(c.Files), n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/resource")
		})
	}
}

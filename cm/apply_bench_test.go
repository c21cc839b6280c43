package cm

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/unit-os/unit/config"
)

// filesDir writes n [file] resources under root, as bench/cm.sh
// generates them, 1,000 a file (a file is at most 1 MiB), and returns
// their directory.
func filesDir(tb testing.TB, n int, root string) string {
	tb.Helper()
	dir := tb.TempDir()
	for f := 0; f < n; f += 1000 {
		var b []byte
		for i := f; i < min(n, f+1000); i++ {
			b = fmt.Appendf(b, "[file.\"%s/d%03d/f%05d\"]\ncontent = \"managed file %d\\n\"\nmode = \"0644\"\n", root, i/100, i, i)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("files%02d.toml", f/1000)), b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// BenchmarkApplyOnceNoop is `unit apply --once` after the files are in
// place, less the process: load and validate the config, then a pass that
// finds nothing to do.
//
//	go test -run X -bench ApplyOnce -benchmem ./cm/
func BenchmarkApplyOnceNoop(b *testing.B) {
	quiet := WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			root := b.TempDir()
			dir := filesDir(b, n, root)
			apply := func() *Report {
				cfg, err := config.Load(dir)
				if err != nil {
					b.Fatal(err)
				}
				rep, err := ApplyOnce(context.Background(), cfg, false, quiet)
				if err != nil || rep.Failed > 0 {
					b.Fatalf("apply: %v, %d failed", err, rep.Failed)
				}
				return rep
			}
			if rep := apply(); rep.Changed() != n {
				b.Fatalf("first apply changed %d, want %d", rep.Changed(), n)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if rep := apply(); rep.Changed() != 0 {
					b.Fatalf("no-op changed %d", rep.Changed())
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/resource")
		})
	}
}

package pkgbuild

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// BenchmarkDebKeg puts every .deb of the user's download cache
// ($UNIT_CACHE/sources, as a real build left it) into a fresh store one
// after the other, and reports the median and the largest time per .deb:
// the figure of issue 27 (".deb into the store"). Skipped without such a
// cache. Run: go test -run '^$' -bench DebKeg -benchtime 1x ./pkgbuild/
func BenchmarkDebKeg(b *testing.B) {
	cache, err := DefaultCache()
	if err != nil {
		b.Skip(err)
	}
	ents, _ := os.ReadDir(filepath.Join(cache, "sources"))
	var debs []string
	for _, e := range ents {
		head := make([]byte, 21)
		f, err := os.Open(filepath.Join(cache, "sources", e.Name()))
		if err != nil || !e.Type().IsRegular() {
			continue
		}
		f.Read(head)
		f.Close()
		if bytes.Equal(head, []byte("!<arch>\ndebian-binary")) {
			debs = append(debs, e.Name())
		}
	}
	if len(debs) == 0 {
		b.Skip("no .deb in " + filepath.Join(cache, "sources"))
	}
	var times []time.Duration
	var largest time.Duration
	var largestSize int64
	for i := 0; i < b.N; i++ {
		bl, err := NewBuilder(Options{Store: b.TempDir(), Cache: cache, Jobs: 1})
		if err != nil {
			b.Fatal(err)
		}
		for _, sum := range debs {
			st, _ := os.Stat(filepath.Join(cache, "sources", sum))
			d := DebInfo{Package: "p" + sum[:12], Version: "1", SHA256: sum, Filename: sum + ".deb"}
			start := time.Now()
			if _, err := bl.debKeg(context.Background(), d, "bench.lock", "bench"); err != nil {
				b.Fatal(err)
			}
			t := time.Since(start)
			times = append(times, t)
			if st.Size() > largestSize {
				largest, largestSize = t, st.Size()
			}
		}
	}
	slices.Sort(times)
	b.ReportMetric(float64(len(debs)), "debs")
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms/deb")
	b.ReportMetric(float64(largest.Microseconds())/1000, "largest-ms")
	b.ReportMetric(float64(largestSize)/1e6, "largest-MB")
	b.ReportMetric(float64(times[len(times)-1].Microseconds())/1000, "slowest-ms")
}

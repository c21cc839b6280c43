package supervise

import (
	"fmt"
	"testing"

	"github.com/unit-os/unit/config"
)

// BenchmarkStart1000 is 1,000 services from SetConfig to all running, in
// process (bench/supervise.sh measures it end to end against s6 and runit).
func BenchmarkStart1000(b *testing.B) {
	for range b.N {
		b.StopTimer()
		h := newHarness(b)
		svcs := map[string]*config.Service{}
		for i := 0; i < 1000; i++ {
			svcs[fmt.Sprintf("s%04d", i)] = &config.Service{Exec: []string{"sleep", "1000"}}
		}
		b.StartTimer()
		h.set(svcs)
		ready, err := h.s.WaitReady(h.ctx)
		if err != nil {
			b.Fatal(err)
		}
		<-ready
		b.StopTimer()
		if err := h.s.Shutdown(h.ctx); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/1000-services")
	}
}

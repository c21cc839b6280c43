package supervise

import (
	"fmt"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/event"
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

// BenchmarkRestart is one restart: SIGKILL of a running service to the
// "starting" event of its replacement (emitted once the new process has
// exec'd: ForkExec returns after the vfork child's execve). The restart is
// immediate (the first after a stable run). Compare with BenchmarkRestartFloor.
func BenchmarkRestart(b *testing.B) {
	starts := make(chan int, 16)
	emit := func(e event.Event) {
		if e.State == StateStarting {
			if p, ok := e.Fields["pid"].(int); ok {
				starts <- p
			}
		}
	}
	h := newHarness(b, WithEvents(emit), WithBackoff(Backoff{Initial: time.Millisecond, Max: time.Millisecond}))
	h.set(map[string]*config.Service{"s": {Exec: []string{"sleep", "1000"}}})
	cur := <-starts
	ds := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		_ = syscall.Kill(cur, syscall.SIGKILL)
		cur = <-starts
		ds = append(ds, time.Since(t0))
	}
	b.StopTimer()
	reportMedian(b, ds)
}

// BenchmarkRestartFloor is the same kill -> wait4 -> fork/exec without a
// supervisor: the floor a restart cannot beat.
func BenchmarkRestartFloor(b *testing.B) {
	path, err := exec.LookPath("sleep")
	if err != nil {
		b.Skip(err)
	}
	start := func() int {
		pid, err := syscall.ForkExec(path, []string{"sleep", "1000"}, &syscall.ProcAttr{Sys: &syscall.SysProcAttr{Setpgid: true}})
		if err != nil {
			b.Fatal(err)
		}
		return pid
	}
	// The test reaper's wait4(-1) may reap the child first: this wait4
	// then fails with ECHILD, which also means it is gone.
	cur := start()
	ds := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		_ = syscall.Kill(cur, syscall.SIGKILL)
		var ws syscall.WaitStatus
		_, _ = syscall.Wait4(cur, &ws, 0, nil)
		cur = start()
		ds = append(ds, time.Since(t0))
	}
	b.StopTimer()
	_ = syscall.Kill(cur, syscall.SIGKILL)
	var ws syscall.WaitStatus
	_, _ = syscall.Wait4(cur, &ws, 0, nil)
	reportMedian(b, ds)
}

func reportMedian(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds()), "median-µs")
}

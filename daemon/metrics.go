package daemon

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/event"
	"github.com/unit-os/unit/safepath"
	"github.com/unit-os/unit/supervise"
)

// serviceStates are the states a service is reported in, one series each
// (1 for the state it is in), as node_exporter's systemd collector does.
var serviceStates = []string{"running", "starting", "waiting", "backoff", "stopping", "stopped", "exited", "failed"}

// metrics renders the machine in Prometheus text format: per service its
// state, restarts, last exit, readiness, health, cgroup memory and CPU;
// the engine's resources, changes, repairs, failures and last pass; PID
// 1's own memory; the release.
func (d *Daemon) metrics(ctx context.Context) []byte {
	var b strings.Builder
	sts, _ := d.sup.Status(ctx, "")
	family := func(name, kind, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, kind)
	}
	family("unit_service_state", "gauge", "1 for the state the service is in.")
	for _, st := range sts {
		for _, s := range serviceStates {
			fmt.Fprintf(&b, "unit_service_state{service=\"%s\",state=\"%s\"} %d\n", promEscape(st.Name), s, btoi(st.State == s))
		}
	}
	family("unit_service_restarts_total", "counter", "Restarts since unit started.")
	for _, st := range sts {
		fmt.Fprintf(&b, "unit_service_restarts_total{service=\"%s\"} %d\n", promEscape(st.Name), st.Restarts)
	}
	family("unit_service_last_exit_code", "gauge", "The last exit's code (128+N for signal N); absent before one.")
	for _, st := range sts {
		if code, ok := exitCode(st.LastExit); ok {
			fmt.Fprintf(&b, "unit_service_last_exit_code{service=\"%s\"} %d\n", promEscape(st.Name), code)
		}
	}
	family("unit_service_ready", "gauge", "1 while the service is running and ready (or a one-shot that finished).")
	for _, st := range sts {
		fmt.Fprintf(&b, "unit_service_ready{service=\"%s\"} %d\n", promEscape(st.Name), btoi(st.State == "running" || (st.State == "exited" && st.LastExit == "exit 0")))
	}
	family("unit_service_healthy", "gauge", "1 while the health check passes, 0 while it fails; absent without one.")
	for _, st := range sts {
		if st.Health != "" && st.Health != "pending" {
			fmt.Fprintf(&b, "unit_service_healthy{service=\"%s\"} %d\n", promEscape(st.Name), btoi(st.Health == "ok"))
		}
	}
	family("unit_service_memory_bytes", "gauge", "The service's cgroup memory.current.")
	for _, st := range sts {
		if st.Memory > 0 {
			fmt.Fprintf(&b, "unit_service_memory_bytes{service=\"%s\"} %d\n", promEscape(st.Name), st.Memory)
		}
	}
	family("unit_service_cpu_seconds_total", "counter", "CPU time of the service's cgroup (cpu.stat usage_usec).")
	for _, st := range sts {
		if cpu, ok := cgroupCPU(st); ok {
			fmt.Fprintf(&b, "unit_service_cpu_seconds_total{service=\"%s\"} %s\n", promEscape(st.Name), strconv.FormatFloat(cpu.Seconds(), 'f', -1, 64))
		}
	}

	s := d.engine.Stats()
	family("unit_cm_resources", "gauge", "Managed resources by kind.")
	kinds := make([]string, 0, len(s.Resources))
	for k := range s.Resources {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		fmt.Fprintf(&b, "unit_cm_resources{kind=\"%s\"} %d\n", promEscape(k), s.Resources[k])
	}
	counter := func(name, help string, v int64) {
		family(name, "counter", help)
		fmt.Fprintf(&b, "%s %d\n", name, v)
	}
	gauge := func(name, help string, v string) {
		family(name, "gauge", help)
		fmt.Fprintf(&b, "%s %s\n", name, v)
	}
	counter("unit_cm_passes_total", "Convergence passes.", s.Passes)
	counter("unit_cm_changes_total", "Resources changed, drift repairs included.", s.Changes)
	counter("unit_cm_drift_repairs_total", "Resources put back after someone changed them.", s.Repairs)
	counter("unit_cm_failures_total", "Resource convergences that failed.", s.Failures)
	gauge("unit_cm_failing", "Resources whose last convergence failed.", strconv.Itoa(s.Failing))
	gauge("unit_cm_last_pass_duration_seconds", "How long the last pass took.", strconv.FormatFloat(s.LastDuration.Seconds(), 'f', -1, 64))
	if !s.LastPass.IsZero() {
		gauge("unit_cm_last_pass_timestamp_seconds", "When the last pass started.", strconv.FormatInt(s.LastPass.Unix(), 10))
	}
	counter("unit_cm_inotify_overflows_total", "Times inotify events were lost (and every resource re-checked).", d.engine.InotifyOverflows())
	gauge("unit_config_error", "1 while the config on disk is invalid (the last good one runs).", strconv.Itoa(btoi(d.engine.LastConfigError() != "")))
	if rss, ok := selfRSS(); ok {
		gauge("unit_memory_rss_bytes", "PID 1's (or unit run's) resident memory.", strconv.FormatInt(rss, 10))
	}
	if d.opts.Release != "" {
		family("unit_release_info", "gauge", "The running image's release, as a label.")
		fmt.Fprintf(&b, "unit_release_info{release=\"%s\"} 1\n", promEscape(d.opts.Release))
	}
	return []byte(b.String())
}

// promEscape escapes a label value (backslash, double quote, newline).
// It is called for every line of `unit metrics`: a name that needs no
// escape, the usual case, costs no allocation (a strings.Replacer made
// per call was 6.7 KB, so 7 MB of garbage per call at 100 services).
func promEscape(s string) string {
	if !strings.ContainsAny(s, "\\\"\n") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// exitCode reads supervise's "exit N" and "signal NAME" forms.
func exitCode(last string) (int, bool) {
	if n, ok := strings.CutPrefix(last, "exit "); ok {
		v, err := strconv.Atoi(n)
		return v, err == nil
	}
	if name, ok := strings.CutPrefix(last, "signal "); ok {
		if sig := unix.SignalNum(name); sig > 0 {
			return 128 + int(sig), true
		}
	}
	return 0, false
}

// cgroupCPU is a service cgroup's CPU time.
func cgroupCPU(st supervise.Status) (time.Duration, bool) {
	if st.Cgroup == "" {
		return 0, false
	}
	f, err := os.Open(filepath.Join(st.Cgroup, "cpu.stat"))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "usage_usec "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			return time.Duration(n) * time.Microsecond, err == nil
		}
	}
	return 0, false
}

// selfRSS is this process's resident set (VmRSS).
func selfRSS() (int64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err == nil
		}
	}
	return 0, false
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// writeMetrics keeps path up to date: it is written when an event says
// something changed (events that arrive during a write are folded into
// the next one), never on a timer, atomically (the collector never reads
// half a file) and through a safe path walk.
// The path is the config's of the moment ([metrics] textfile, swapped
// on reload); "" writes nothing.
func (d *Daemon) writeMetrics(ctx context.Context, events <-chan event.Event) {
	write := func() {
		p := d.metricsPath.Load()
		if p == nil || *p == "" {
			return
		}
		path := *p
		if err := safepath.WriteFile(path, d.metrics(ctx), 0o644, 0, 0); err != nil {
			d.log.Warn("metrics", "path", path, "err", err)
		}
	}
	write()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-events:
			if !ok {
				return
			}
		}
		for drained := false; !drained; {
			select {
			case _, ok := <-events:
				if !ok {
					return
				}
			default:
				drained = true
			}
		}
		write()
	}
}

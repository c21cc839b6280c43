// Command idle helps bench/idle.sh: as `idle baseline` it is a Go
// program that collected once and then does nothing (the wake-ups any Go
// program pays), and as `idle attribute` it reads `perf script` output of
// sched:sched_switch events with call graphs and says which part of unit
// each wake-up was: the runtime's sysmon, a collection, the scavenger, or
// unit's own code. It is not part of `make test`.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: idle baseline | idle attribute -bin BIN [-start S] [-gclog FILE] < perf-script-output")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "baseline":
		runtime.GC() // as any program that allocated: the forced collection's clock starts
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
		<-c
	case "attribute":
		fs := flag.NewFlagSet("attribute", flag.ExitOnError)
		bin := fs.String("bin", "bin/unit", "the binary perf recorded (its pclntab names the addresses)")
		start := fs.Float64("start", 0, "the process's start, in perf's clock (seconds since boot)")
		from := fs.Float64("from", 0, "the window's start, in perf's clock (default: the first switch)")
		gclog := fs.String("gclog", "", "stderr of the process run with GODEBUG=gctrace=1")
		_ = fs.Parse(os.Args[2:])
		if err := attribute(os.Stdin, os.Stdout, *bin, *start, *from, *gclog); err != nil {
			fmt.Fprintln(os.Stderr, "idle:", err)
			os.Exit(1)
		}
	default:
		fmt.Fprintln(os.Stderr, "idle: unknown role", os.Args[1])
		os.Exit(2)
	}
}

// switchEvent is one context switch away from a thread of the process.
type switchEvent struct {
	tid   string
	t     float64
	addrs []uint64 // user-space return addresses, innermost first
	funcs []string
}

var headRE = regexp.MustCompile(`^\s*(\d+)\s+([0-9.]+):`)

// parse reads `perf script -F tid,time,ip,dso` output: a header line per
// event, then one frame a line; frames of bin are kept.
func parse(r io.Reader, bin string) ([]*switchEvent, error) {
	var evs []*switchEvent
	var cur *switchEvent
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := headRE.FindStringSubmatch(line); m != nil {
			t, _ := strconv.ParseFloat(m[2], 64)
			cur = &switchEvent{tid: m[1], t: t}
			evs = append(evs, cur)
			continue
		}
		f := strings.Fields(line)
		if cur == nil || len(f) < 2 || !strings.Contains(line, bin) {
			continue
		}
		a, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil {
			continue
		}
		cur.addrs = append(cur.addrs, a)
	}
	return evs, sc.Err()
}

// symbolize names addresses with `go tool addr2line`, which reads the Go
// symbol table a stripped binary keeps. perf prints offsets into the file;
// a static Go binary's text is mapped at 0x400000 + offset.
func symbolize(evs []*switchEvent, bin string) error {
	uniq := map[uint64]string{}
	for _, e := range evs {
		for _, a := range e.addrs {
			uniq[a] = ""
		}
	}
	if len(uniq) == 0 {
		return nil
	}
	addrs := make([]uint64, 0, len(uniq))
	var in strings.Builder
	for a := range uniq {
		addrs = append(addrs, a)
		fmt.Fprintf(&in, "0x%x\n", a+0x400000)
	}
	cmd := exec.Command("go", "tool", "addr2line", bin)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("go tool addr2line %s: %w", bin, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for i, a := range addrs {
		if 2*i < len(lines) {
			uniq[a] = lines[2*i]
		}
	}
	for _, e := range evs {
		for _, a := range e.addrs {
			e.funcs = append(e.funcs, uniq[a])
		}
	}
	return nil
}

// roles name what a thread was doing when it went back to sleep, by the
// outermost runtime function that says so.
var roles = []struct{ fn, role string }{
	{"runtime.sysmon", "sysmon"},
	{"runtime.forcegchelper", "GC"},
	{"runtime.gcBgMarkWorker", "GC"},
	{"runtime.gcStart", "GC"},
	{"runtime.bgscavenge", "scavenger"},
	{"runtime.bgsweep", "sweeper"},
	{"runtime.runCleanups", "cleanups"},
	{"runtime.runfinq", "finalizers"},
}

func roleOf(e *switchEvent) string {
	for _, f := range e.funcs {
		for _, r := range roles {
			if f == r.fn {
				return r.role
			}
		}
	}
	for _, f := range e.funcs {
		if f != "" && !strings.HasPrefix(f, "runtime.") && !strings.HasPrefix(f, "syscall.") && !strings.HasPrefix(f, "internal/") {
			return f
		}
	}
	return "scheduler (an M parks after running a goroutine)"
}

// gcTimes reads "gc N @S.SSSs" lines: each collection's start, seconds
// after the process started.
func gcTimes(path string) ([]float64, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	re := regexp.MustCompile(`(?m)^gc \d+ @([0-9.]+)s`)
	var ts []float64
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		t, _ := strconv.ParseFloat(m[1], 64)
		ts = append(ts, t)
	}
	return ts, nil
}

// attribute prints the switches by role, then each burst (switches
// within 100 ms of each other) with its time, size and roles, marking
// bursts that a collection started in.
func attribute(r io.Reader, w io.Writer, bin string, start, from float64, gclog string) error {
	evs, err := parse(r, bin)
	if err != nil {
		return err
	}
	if err := symbolize(evs, bin); err != nil {
		return err
	}
	gcs, err := gcTimes(gclog)
	if err != nil {
		return err
	}
	if len(evs) == 0 {
		fmt.Fprintln(w, "no context switches recorded")
		return nil
	}
	sort.Slice(evs, func(i, j int) bool { return evs[i].t < evs[j].t })
	byRole := map[string]int{}
	for _, e := range evs {
		byRole[roleOf(e)]++
	}
	names := make([]string, 0, len(byRole))
	for n := range byRole {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return byRole[names[i]] > byRole[names[j]] })
	fmt.Fprintf(w, "%d switches away from the process's threads, by what the thread was doing:\n", len(evs))
	for _, n := range names {
		fmt.Fprintf(w, "  %4d  %s\n", byRole[n], n)
	}
	fmt.Fprintln(w, "bursts (switches less than 100 ms apart), seconds into the window:")
	t0 := from
	if t0 == 0 {
		t0 = evs[0].t
	}
	for i := 0; i < len(evs); {
		j := i + 1
		for j < len(evs) && evs[j].t-evs[j-1].t < 0.1 {
			j++
		}
		rs := map[string]int{}
		for _, e := range evs[i:j] {
			rs[roleOf(e)]++
		}
		var parts []string
		for n, c := range rs {
			parts = append(parts, fmt.Sprintf("%s %d", n, c))
		}
		sort.Strings(parts)
		gc := ""
		if start > 0 {
			for k, g := range gcs {
				if at := start + g; at >= evs[i].t-0.1 && at <= evs[j-1].t+0.1 {
					gc = fmt.Sprintf("  <- collection %d (gctrace)", k+1)
				}
			}
		}
		fmt.Fprintf(w, "  %7.1f s  %3d  %s%s\n", evs[i].t-t0, j-i, strings.Join(parts, ", "), gc)
		i = j
	}
	return nil
}

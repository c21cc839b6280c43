// Command supervise compares unit's supervisor with s6 and runit (Debian's
// packages) on one machine in one run: restart latency after a crash,
// 1000 services from start to all up, supervisor memory (PSS) with 100
// services, and idle wake-ups with 100 services. Run it through
// bench/supervise.sh; it is not part of `make test`.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	switch os.Getenv("BENCH_ROLE") {
	case "svc":
		serviceRole()
		return
	case "idle":
		idleRole()
		return
	case "spawn":
		spawnRole()
		return
	}
	unitBin := flag.String("unit", "bin/unit", "unit binary")
	samples := flag.Int("samples", 30, "restart latency samples per supervisor")
	many := flag.Int("many", 1000, "services for the start-to-up figure")
	idle := flag.Duration("idle", 20*time.Second, "idle window for wake-ups")
	only := flag.String("only", "", "run only the start-to-up figure of this supervisor (unit, s6, runit)")
	flag.Parse()
	if *only != "" {
		for _, s := range []supervisor{&unitSup{bin: *unitBin}, &s6Sup{}, &runitSup{}, floorSup{}} {
			if s.name() == *only {
				d, err := startMany(s, *many)
				fmt.Println(s.name(), d.Round(time.Millisecond), err)
			}
		}
		return
	}
	if err := run(*unitBin, *samples, *many, *idle); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// serviceRole is the crashing service: it appends "UNIXNANO PID" to
// $BENCH_OUT as its first act, then waits to be killed.
func serviceRole() {
	now := time.Now().UnixNano()
	f, err := os.OpenFile(os.Getenv("BENCH_OUT"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err == nil {
		fmt.Fprintf(f, "%d %d\n", now, os.Getpid())
		f.Close()
	}
	for {
		time.Sleep(time.Hour)
	}
}

// idleRole is the Go runtime doing nothing (a signal handler, blocked): the
// baseline of wake-ups any Go program pays.
func idleRole() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM)
	<-ch
}

func run(unitBin string, samples, many int, idle time.Duration) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	unitBin, err = filepath.Abs(unitBin)
	if err != nil {
		return err
	}
	sups := []supervisor{&unitSup{bin: unitBin}, &s6Sup{}, &runitSup{}}
	fmt.Printf("load average at start: %s\n\n", loadavg())

	fmt.Printf("## restart latency (SIGKILL of a service that ran 2 s, to its replacement's first instruction), %d samples each\n", samples)
	base, err := execBaseline(self, samples)
	if err != nil {
		return err
	}
	fmt.Printf("exec baseline (fork+exec of the service from a Go program, included in every figure): median %s\n", base)
	// Round-robin, one sample of each per round: a burst of load beside
	// the run hits every figure alike, and each supervisor's sample is
	// paired with the floor's of the same round.
	names := []string{"floor"}
	for _, s := range sups {
		names = append(names, s.name())
	}
	got := map[string][]time.Duration{}
	over := map[string][]time.Duration{}
	for i := 0; i < samples; i++ {
		f, err := restartFloor(self)
		if err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		got["floor"] = append(got["floor"], f)
		for _, s := range sups {
			d, err := restartOnce(s, self)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name(), err)
			}
			got[s.name()] = append(got[s.name()], d)
			over[s.name()] = append(over[s.name()], d-f)
		}
	}
	for _, n := range names {
		fmt.Printf("%-6s median %-10s", n, median(got[n]))
		if n != "floor" {
			fmt.Printf(" over the floor (median of the rounds' differences) %-10s", median(over[n]))
		}
		fmt.Printf(" samples %v\n", got[n])
	}
	fmt.Printf("(floor: a Go loop, SIGKILL -> wait4 -> ForkExec of the same program; load average now %s)\n", loadavg())

	fmt.Printf("\n## %d services, start of the supervisor to all %d processes running\n", many, many)
	floorMany, err := startMany(floorSup{}, many)
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	fmt.Printf("%-6s %s\n", "floor", floorMany.Round(time.Millisecond))
	for _, s := range sups {
		d, err := startMany(s, many)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name(), err)
		}
		fmt.Printf("%-6s %-8s %s of the floor\n", s.name(), d.Round(time.Millisecond), ratio(d, floorMany))
	}
	fmt.Printf("(floor: one Go program fork/execs all %d; load average now %s)\n", many, loadavg())

	fmt.Printf("\n## 100 services: supervisor PSS, and wake-ups over %s idle\n", idle)
	return memoryAndIdle(sups, self, idle)
}

// supervisor is one supervision suite set up in a fresh directory.
type supervisor interface {
	name() string
	// start supervises services (name -> argv) and returns the root
	// process; env is added to the supervisor's environment.
	start(dir string, services map[string][]string, env []string) (*exec.Cmd, error)
	// procs lists the supervising processes (root and its helpers).
	procs(root int) []int
	stop(cmd *exec.Cmd)
}

func launch(argv []string, env []string, logPath string) (*exec.Cmd, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if logPath != "" {
		f, err := os.Create(logPath)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		cmd.Stdout, cmd.Stderr = f, f
	}
	return cmd, cmd.Start()
}

// stopGroup signals the supervisor, waits, then kills its process group
// and every service it left (found by their unique argv).
func stopGroup(cmd *exec.Cmd, sig syscall.Signal, marker string) {
	_ = cmd.Process.Signal(sig)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	if marker != "" {
		for _, pid := range findArgv(marker) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// findArgv lists processes whose command line contains marker.
func findArgv(marker string) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(b), marker) {
			out = append(out, pid)
		}
	}
	return out
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// waitLines waits until path has n lines and returns them.
func waitLines(path string, n int, timeout time.Duration) ([]string, error) {
	deadline := time.Now().Add(timeout)
	for {
		b, _ := os.ReadFile(path)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(b) > 0 && len(lines) >= n {
			return lines, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s: %d lines after %s, want %d", path, len(lines), timeout, n)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

func parseLine(l string) (ns int64, pid int) {
	f := strings.Fields(l)
	if len(f) == 2 {
		ns, _ = strconv.ParseInt(f[0], 10, 64)
		pid, _ = strconv.Atoi(f[1])
	}
	return ns, pid
}

// execBaseline is how long starting the service itself takes.
func execBaseline(self string, n int) (time.Duration, error) {
	dir, err := os.MkdirTemp("", "bench-exec-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	var ds []time.Duration
	for i := 0; i < n; i++ {
		out := filepath.Join(dir, fmt.Sprint(i))
		cmd := exec.Command(self)
		cmd.Env = append(os.Environ(), "BENCH_ROLE=svc", "BENCH_OUT="+out)
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		lines, err := waitLines(out, 1, 10*time.Second)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if err != nil {
			return 0, err
		}
		ns, _ := parseLine(lines[0])
		ds = append(ds, time.Duration(ns-t0.UnixNano()))
	}
	return median(ds), nil
}

// restartOnce starts a fresh supervisor, lets the service run 2 s (a
// healthy run), SIGKILLs it and times the replacement's start.
func restartOnce(s supervisor, self string) (time.Duration, error) {
	dir, err := os.MkdirTemp("", "bench-restart-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "starts")
	cmd, err := s.start(dir, map[string][]string{"crashy": {self}}, []string{"BENCH_ROLE=svc", "BENCH_OUT=" + out})
	if err != nil {
		return 0, err
	}
	defer s.stop(cmd)
	lines, err := waitLines(out, 1, 20*time.Second)
	if err != nil {
		return 0, err
	}
	time.Sleep(2 * time.Second)
	_, pid := parseLine(lines[0])
	t0 := time.Now()
	_ = syscall.Kill(pid, syscall.SIGKILL)
	if lines, err = waitLines(out, 2, 20*time.Second); err != nil {
		return 0, err
	}
	ns, newPid := parseLine(lines[1])
	defer syscall.Kill(newPid, syscall.SIGKILL)
	return time.Duration(ns - t0.UnixNano()).Round(10 * time.Microsecond), nil
}

// sleepers is n services running `sleep MARKER`, a number unique to this run.
func sleepers(n int, marker string) map[string][]string {
	m := map[string][]string{}
	for i := 0; i < n; i++ {
		m[fmt.Sprintf("s%04d", i)] = []string{"/bin/sleep", marker}
	}
	return m
}

// argvCounter counts processes whose argv is exactly argv, cheaply enough
// to poll: a pid is read once it matches, or once it is known to be
// something else for good (it existed before, or it is a supervisor).
type argvCounter struct {
	want  string
	seen  map[int]bool // pid -> matches
	other map[string]bool
}

func newArgvCounter(argv []string) *argvCounter {
	c := &argvCounter{want: strings.Join(argv, "\x00") + "\x00", seen: map[int]bool{}}
	for _, pid := range pids() {
		c.seen[pid] = false // already running: not ours
	}
	return c
}

func pids() []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

func (c *argvCounter) count() int {
	n := 0
	for _, pid := range pids() {
		if match, ok := c.seen[pid]; ok {
			if match {
				n++
			}
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		switch {
		case string(b) == c.want:
			c.seen[pid] = true
			n++
		case strings.HasPrefix(string(b), "s6-supervise"), strings.HasPrefix(string(b), "runsv"):
			// A supervisor stays one; its fork (the service before exec)
			// has a supervisor, not the scanner, as parent.
			if parentIsScanner(pid) {
				c.seen[pid] = false
			}
		}
	}
	return n
}

func parentIsScanner(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	st := string(b)
	f := strings.Fields(st[strings.LastIndexByte(st, ')')+2:])
	comm, _ := os.ReadFile("/proc/" + f[1] + "/comm")
	c := strings.TrimSpace(string(comm))
	return c == "s6-svscan" || c == "runsvdir"
}

// countArgv counts processes whose argv is exactly argv (one scan).
func countArgv(argv []string) int { return newArgvCounterEmpty(argv).count() }

func newArgvCounterEmpty(argv []string) *argvCounter {
	return &argvCounter{want: strings.Join(argv, "\x00") + "\x00", seen: map[int]bool{}}
}

// startMany times a supervisor from its start until all n services run
// (polling /proc every 10 ms, reading each new process once, the same
// for every supervisor).
func startMany(s supervisor, n int) (time.Duration, error) {
	dir, err := os.MkdirTemp("", "bench-many-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	marker := fmt.Sprint(900000 + os.Getpid()%1000*100 + len(s.name()))
	svcs := sleepers(n, marker)
	counter := newArgvCounter([]string{"/bin/sleep", marker})
	t0 := time.Now()
	cmd, err := s.start(dir, svcs, nil)
	if err != nil {
		return 0, err
	}
	defer s.stop(cmd)
	defer func() {
		for _, pid := range findArgv("sleep\x00" + marker) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}()
	for counter.count() < n {
		if time.Since(t0) > 2*time.Minute {
			return 0, errors.New("services not all up after 2 minutes")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(t0), nil
}

// memoryAndIdle runs 100 services under each supervisor at once, then
// measures PSS and context switches over an idle window, next to a Go
// program that does nothing.
func memoryAndIdle(sups []supervisor, self string, idle time.Duration) error {
	type running struct {
		s      supervisor
		cmd    *exec.Cmd
		dir    string
		marker string
	}
	var rs []running
	defer func() {
		for _, r := range rs {
			r.s.stop(r.cmd)
			for _, pid := range findArgv("sleep\x00" + r.marker) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			os.RemoveAll(r.dir)
		}
	}()
	for i, s := range sups {
		dir, err := os.MkdirTemp("", "bench-idle-")
		if err != nil {
			return err
		}
		marker := fmt.Sprint(800000 + os.Getpid()%1000*10 + i)
		cmd, err := s.start(dir, sleepers(100, marker), nil)
		if err != nil {
			return err
		}
		rs = append(rs, running{s, cmd, dir, marker})
		for countArgv([]string{"/bin/sleep", marker}) < 100 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	base := exec.Command(self)
	base.Env = append(os.Environ(), "BENCH_ROLE=idle")
	if err := base.Start(); err != nil {
		return err
	}
	defer func() { _ = base.Process.Signal(syscall.SIGTERM); _ = base.Wait() }()
	time.Sleep(3 * time.Second) // settle: the first GC, lazy inits
	before := map[string]int{}
	procs := map[string][]int{}
	for _, r := range rs {
		procs[r.s.name()] = r.s.procs(r.cmd.Process.Pid)
	}
	procs["go-idle"] = []int{base.Process.Pid}
	for name, ps := range procs {
		before[name] = switches(ps)
	}
	time.Sleep(idle)
	fmt.Printf("%-8s %6s %8s %8s %8s %8s %s\n", "", "procs", "PSS", "anon", "file", "RSS", fmt.Sprintf("wake-ups in %s (voluntary+involuntary, all threads)", idle))
	mb := func(kb int) string { return fmt.Sprintf("%.1fM", float64(kb)/1024) }
	for _, name := range []string{"unit", "s6", "runit", "go-idle"} {
		ps := procs[name]
		fmt.Printf("%-8s %6d %8s %8s %8s %8s %d\n", name, len(ps), mb(sumField(ps, "Pss:")), mb(sumField(ps, "Pss_Anon:")),
			mb(sumField(ps, "Pss_File:")), mb(sumField(ps, "Rss:")), switches(ps)-before[name])
	}
	return nil
}

// sumField sums a smaps_rollup field (kB) over pids.
func sumField(pids []int, key string) int {
	total := 0
	for _, p := range pids {
		total += statusField(fmt.Sprintf("/proc/%d/smaps_rollup", p), key)
	}
	return total
}

// switches sums context switches of every thread of pids.
func switches(pids []int) int {
	total := 0
	for _, p := range pids {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", p))
		for _, t := range tasks {
			total += statusField(t, "voluntary_ctxt_switches:") + statusField(t, "nonvoluntary_ctxt_switches:")
		}
	}
	return total
}

func statusField(path, key string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), key) {
			v, _ := strconv.Atoi(strings.Fields(strings.TrimPrefix(sc.Text(), key))[0])
			return v
		}
	}
	return 0
}

// children lists root and its descendants whose comm is one of names.
func children(root int, names ...string) []int {
	out := []int{root}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(b)
		comm := s[strings.IndexByte(s, '(')+1 : strings.LastIndexByte(s, ')')]
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		ppid, _ := strconv.Atoi(f[1])
		for _, n := range names {
			if comm == n && ppid == root {
				out = append(out, pid)
			}
		}
	}
	return out
}

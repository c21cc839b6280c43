package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The floors are what no supervisor can beat on this machine in this run:
// the same work done by a bare Go loop.

// restartFloor is a restart with no supervisor: the service runs 2 s, is
// SIGKILLed, wait4 reaps it and ForkExec starts the same program again;
// timed, as the supervisors are, from the kill to the replacement's first
// instruction.
func restartFloor(self string) (time.Duration, error) {
	dir, err := os.MkdirTemp("", "bench-floor-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "starts")
	attr := &syscall.ProcAttr{
		Env: append(os.Environ(), "BENCH_ROLE=svc", "BENCH_OUT="+out),
		Sys: &syscall.SysProcAttr{Setpgid: true},
	}
	pid, err := syscall.ForkExec(self, []string{self}, attr)
	if err != nil {
		return 0, err
	}
	if _, err := waitLines(out, 1, 10*time.Second); err != nil {
		reap(pid)
		return 0, err
	}
	time.Sleep(2 * time.Second) // idle as long as the supervisors' services
	t0 := time.Now()
	reap(pid)
	if pid, err = syscall.ForkExec(self, []string{self}, attr); err != nil {
		return 0, err
	}
	lines, err := waitLines(out, 2, 10*time.Second)
	reap(pid)
	if err != nil {
		return 0, err
	}
	ns, _ := parseLine(lines[1])
	return time.Duration(ns - t0.UnixNano()).Round(10 * time.Microsecond), nil
}

// reap SIGKILLs pid and waits for it.
func reap(pid int) {
	_ = syscall.Kill(pid, syscall.SIGKILL)
	var ws syscall.WaitStatus
	for {
		if _, err := syscall.Wait4(pid, &ws, 0, nil); err != syscall.EINTR {
			return
		}
	}
}

// floorSup "supervises" by fork/exec of every service from one Go program
// (BENCH_ROLE=spawn), with nothing else: the floor of the start-to-up figure.
type floorSup struct{}

func (floorSup) name() string { return "floor" }

func (floorSup) start(dir string, services map[string][]string, env []string) (*exec.Cmd, error) {
	var b strings.Builder
	for _, argv := range services {
		b.WriteString(strings.Join(argv, "\x00"))
		b.WriteString("\n")
	}
	list := filepath.Join(dir, "argv")
	if err := os.WriteFile(list, []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	return launch([]string{os.Args[0]}, append(env, "BENCH_ROLE=spawn", "BENCH_LIST="+list), "")
}

func (floorSup) procs(root int) []int { return []int{root} }

func (floorSup) stop(cmd *exec.Cmd) { stopGroup(cmd, syscall.SIGTERM, "") }

// spawnRole starts every argv of $BENCH_LIST (one a line, NUL between the
// arguments) and waits for SIGTERM.
func spawnRole() {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	b, err := os.ReadFile(os.Getenv("BENCH_LIST"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "spawn:", err)
		os.Exit(1)
	}
	attr := &syscall.ProcAttr{Env: []string{"PATH=/usr/bin:/bin"}, Sys: &syscall.SysProcAttr{Setpgid: true}}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		argv := strings.Split(l, "\x00")
		if _, err := syscall.ForkExec(argv[0], argv, attr); err != nil {
			fmt.Fprintln(os.Stderr, "spawn:", err)
			os.Exit(1)
		}
	}
	<-term
}

// loadavg is /proc/loadavg's three averages.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// ratio is a/b as "1.23x".
func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "?"
	}
	return strconv.FormatFloat(float64(a)/float64(b), 'f', 2, 64) + "x"
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
)

// What is read of other processes: /proc, and the broker's monitoring
// port. Separate processes because the RSS and wake-ups of one agent, or
// of the broker, mean nothing inside a process that also runs a thousand
// agents.

// procStatus reads a field of /proc/PID/status in kB (VmRSS, VmHWM) or
// as a count (Threads).
func procStatus(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strconv.ParseInt(strings.Fields(v)[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, field)
}

// ctxSwitches sums voluntary and involuntary context switches over the
// threads of pid: each is a time a thread slept and woke (or was
// preempted), the wake-ups an idle process pays for.
func ctxSwitches(pid int) (int64, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil || len(tasks) == 0 {
		return 0, fmt.Errorf("threads of %d: none found", pid)
	}
	var sum int64
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // a thread that just exited
		}
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "voluntary_ctxt_switches:"); ok {
				n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				sum += n
			} else if v, ok := strings.CutPrefix(l, "nonvoluntary_ctxt_switches:"); ok {
				n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				sum += n
			}
		}
	}
	return sum, nil
}

// cpuTime is the user + system time pid used so far.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces: the fields start after its ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too short", pid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100, nil // USER_HZ is 100 on Linux
}

// raiseNoFile lifts the soft limit of open files to the hard one: a
// thousand nodes hold two thousand sockets here (both ends of each
// connection when the broker is embedded) plus the control socket's.
func raiseNoFile() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, fmt.Errorf("getrlimit: %w", err)
	}
	rl.Cur = rl.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, fmt.Errorf("setrlimit NOFILE %d: %w", rl.Max, err)
	}
	return rl.Cur, nil
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// goBuild builds pkg of the module at root into out.
func goBuild(root, out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, strings.TrimSpace(string(b)))
	}
	return nil
}

// moduleRoot is the directory of the module's go.mod.
func moduleRoot() (string, error) {
	b, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(b))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the unit module: run from the repository")
	}
	return filepath.Dir(gomod), nil
}

// natsServer is nats-server v2.15.2 (the module's own main, built from
// the module cache) running as its own process, JetStream on disk.
type natsServer struct {
	cmd      *exec.Cmd
	url      string
	monitor  string // http://127.0.0.1:PORT
	logPath  string
	exited   chan struct{}
	exitErr  error
	shutdown bool
}

func startNatsServer(bin, dir string) (*natsServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	mport, err := freePort()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "nats-server.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	s := &natsServer{url: fmt.Sprintf("nats://127.0.0.1:%d", port), monitor: fmt.Sprintf("http://127.0.0.1:%d", mport),
		logPath: logPath, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-m", strconv.Itoa(mport),
		"-js", "-sd", filepath.Join(dir, "jetstream"), "-n", "bench-broker")
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start nats-server: %w", err)
	}
	go func() { s.exitErr = s.cmd.Wait(); close(s.exited) }()
	// Ready when a client gets through its CONNECT (a poll of start-up,
	// not of anything measured).
	for deadline := time.Now().Add(30 * time.Second); ; {
		nc, err := nats.Connect(s.url, nats.Timeout(time.Second))
		if err == nil {
			nc.Close()
			return s, nil
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("nats-server exited: %v (log %s)", s.exitErr, logPath)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("nats-server did not answer in 30 s (log %s)", logPath)
		}
	}
}

func (s *natsServer) pid() int { return s.cmd.Process.Pid }

func (s *natsServer) stop() {
	if s.shutdown {
		return
	}
	s.shutdown = true
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// outMsgs is the number of messages the broker has sent to the client
// connections whose name match takes (its monitoring port's connz).
func (s *natsServer) outMsgs(ctx context.Context, match func(name string) bool) (int64, error) {
	var cz struct {
		Connections []struct {
			Name    string `json:"name"`
			OutMsgs int64  `json:"out_msgs"`
		} `json:"connections"`
	}
	req, err := http.NewRequestWithContext(ctx, "GET", s.monitor+"/connz?limit=100000", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("connz: %w", err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&cz); err != nil {
		return 0, fmt.Errorf("connz: %w", err)
	}
	var n int64
	found := false
	for _, c := range cz.Connections {
		if match(c.Name) {
			n, found = n+c.OutMsgs, true
		}
	}
	if !found {
		return 0, errors.New("connz: no such connection")
	}
	return n, nil
}

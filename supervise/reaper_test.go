package supervise

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/execfile"
)

var testEnv = []string{"PATH=" + execfile.DefaultPATH}

func TestRunCommand(t *testing.T) {
	ctx := context.Background()
	e, err := testReaper.RunCommand(ctx, []string{"sh", "-c", "exit 3"}, testEnv, nil)
	if err != nil || !e.Status.Exited() || e.Status.ExitStatus() != 3 || e.String() != "exit 3" || e.Success() {
		t.Errorf("exit 3: %v %v", e, err)
	}

	out, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	e, err = testReaper.RunCommand(ctx, []string{"echo", "hi"}, testEnv, out)
	if b, _ := os.ReadFile(out.Name()); err != nil || !e.Success() || string(b) != "hi\n" {
		t.Errorf("echo: %v %v %q", e, err, b)
	}

	if _, err := testReaper.RunCommand(ctx, []string{"no-such-command"}, testEnv, nil); err == nil {
		t.Error("missing command ran")
	}

	// A cancelled ctx kills the command's whole group and still reaps it.
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(100*time.Millisecond, cancel)
	e, err = testReaper.RunCommand(cctx, []string{"sh", "-c", "sleep 100 & sleep 100"}, testEnv, nil)
	if !errors.Is(err, context.Canceled) || !e.Status.Signaled() || e.Status.Signal() != syscall.SIGKILL {
		t.Errorf("cancelled: %v %v", e, err)
	}
	if _, err := testReaper.RunCommand(cctx, []string{"true"}, testEnv, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("ran with a cancelled ctx: %v", err)
	}
}

// ourZombies counts our children that nobody reaped.
func ourZombies(t *testing.T) int {
	t.Helper()
	me := os.Getpid()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	n := 0
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // exited meanwhile
		}
		// "pid (comm) S ppid ...": comm may hold spaces and parentheses.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) >= 2 && f[0] == "Z" && f[1] == strconv.Itoa(me) {
			n++
		}
	}
	return n
}

func TestReaperReapsOrphans(t *testing.T) {
	before := testReaper.Orphans()
	e, err := testReaper.RunCommand(context.Background(),
		[]string{"sh", "-c", "for i in $(seq 200); do (sleep 0.05 &) ; done"}, testEnv, nil)
	if err != nil || !e.Success() {
		t.Fatalf("%v %v", e, err)
	}
	eventually(t, "200 orphans reaped", func() bool { return testReaper.Orphans()-before >= 200 })
	eventually(t, "no zombies", func() bool { return ourZombies(t) == 0 })
}

// A panicking exit handler is contained; reaping goes on.
func TestReaperHandlerPanic(t *testing.T) {
	pid, err := testReaper.Start("/bin/true", []string{"true"}, &syscall.ProcAttr{Env: testEnv},
		func(Exit) { panic("handler bug") })
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "panicking child reaped", func() bool { return gone(pid) })
	if e, err := testReaper.RunCommand(context.Background(), []string{"true"}, testEnv, nil); err != nil || !e.Success() {
		t.Errorf("reaper dead after a handler panic: %v %v", e, err)
	}
}

// An exit reaped between Start's fork and its registration reaches its
// owner: the fork does not hold the reaper's lock, so reaping goes on.
func TestStartExitBeforeRegistration(t *testing.T) {
	r := testReaper
	reaped := make(chan struct{})
	r.afterFork = func(pid int) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		var si unix.Siginfo
		_ = unix.Waitid(unix.P_PID, pid, &si, unix.WEXITED|unix.WNOWAIT, nil) // a zombie now
		go func() {
			r.reapAll()
			close(reaped)
		}()
		select {
		case <-reaped:
		case <-time.After(waitTimeout):
			t.Error("reaping waited for Start")
		}
	}
	defer func() { r.afterFork = nil }()
	got := make(chan Exit, 1)
	pid, err := r.Start("/bin/sh", []string{"sh", "-c", "sleep 100"}, &syscall.ProcAttr{Env: testEnv}, func(e Exit) { got <- e })
	r.afterFork = nil
	if err != nil {
		t.Fatal(err)
	}
	<-reaped
	e := <-got
	if e.PID != pid || !e.Status.Signaled() || e.Status.Signal() != syscall.SIGKILL {
		t.Errorf("exit %+v of %d", e, pid)
	}
	if r.Owns(pid) {
		t.Errorf("%d still registered after its exit", pid)
	}
}

package supervise

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Exit is how a child ended.
type Exit struct {
	PID    int
	Status syscall.WaitStatus
	Lost   bool // reaped before anyone claimed it: status unknown
}

// String describes the exit like a shell would: "exit 1", "signal SIGKILL".
func (e Exit) String() string {
	switch {
	case e.Lost:
		return "exit status unknown"
	case e.Status.Exited():
		return fmt.Sprintf("exit %d", e.Status.ExitStatus())
	case e.Status.Signaled():
		return "signal " + unix.SignalName(e.Status.Signal())
	}
	return fmt.Sprintf("status %#x", uint32(e.Status))
}

// Success reports a zero exit code.
func (e Exit) Success() bool { return !e.Lost && e.Status.Exited() && e.Status.ExitStatus() == 0 }

// Reaper is the only caller of wait4 in the process. As PID 1 (or a child
// subreaper) every orphan on the machine becomes our child; a second Wait
// anywhere else (exec.Cmd.Wait) would race with this loop and steal exits.
// So every child is started through Start, which registers its owner
// before the exit can be collected.
type Reaper struct {
	mu      sync.Mutex
	owners  map[int]func(Exit)
	adopted map[int]*adoption // watched through a pidfd (Adopt)
	log     *slog.Logger
	orphans uint64
	// Start forks without mu: an exit reaped between its fork and its
	// registration waits in early until that Start claims it.
	starting int
	early    map[int]Exit
	// afterFork, when set (tests), runs between the fork and the
	// registration.
	afterFork func(pid int)
}

// NewReaper returns a reaper; call Run to start collecting exits.
func NewReaper(log *slog.Logger) *Reaper {
	if log == nil {
		log = slog.Default()
	}
	return &Reaper{owners: map[int]func(Exit){}, adopted: map[int]*adoption{}, early: map[int]Exit{}, log: log}
}

// Run reaps children on every SIGCHLD until ctx ends.
func (r *Reaper) Run(ctx context.Context) {
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs, syscall.SIGCHLD)
	defer signal.Stop(sigs)
	r.reapAll()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sigs:
			r.reapAll()
		}
	}
}

// reapAll collects every exited child; SIGCHLD coalesces, so one signal may
// stand for many exits.
func (r *Reaper) reapAll() {
	for {
		var ws syscall.WaitStatus
		// Under mu: the reaping and the end of an adoption are one step
		// for watchAdopted, which must not take our reaped child for
		// another's.
		r.mu.Lock()
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			r.mu.Unlock()
			continue
		}
		if err != nil || pid <= 0 {
			r.mu.Unlock()
			return
		}
		owner := r.owners[pid]
		delete(r.owners, pid)
		delete(r.adopted, pid)
		if owner == nil {
			r.orphans++
			if r.starting > 0 {
				r.early[pid] = Exit{PID: pid, Status: ws} // perhaps a Start's
			}
		}
		r.mu.Unlock()
		if owner != nil {
			r.deliver(owner, Exit{PID: pid, Status: ws})
		}
	}
}

// deliver runs one owner callback; a panic in it must not stop the reaping
// (zombies would pile up and PID 1 would die with it).
func (r *Reaper) deliver(owner func(Exit), e Exit) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("reaper: exit handler panicked", "pid", e.PID, "panic", p)
		}
	}()
	owner(e)
}

// Orphans is how many exits had no owner (reparented grandchildren).
func (r *Reaper) Orphans() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.orphans
}

// Start forks and execs argv and registers onExit for its exit. onExit
// runs on the reaper goroutine and must not block for long.
//
// The fork runs without mu, so reaping never waits for a spawn: an exit
// reaped before the registration is kept (early) while a Start is under
// way, and claimed by it. Linux hands out pids cyclically, so a pid reaped
// during the fork is not the new child's.
func (r *Reaper) Start(argv0 string, argv []string, attr *syscall.ProcAttr, onExit func(Exit)) (int, error) {
	r.mu.Lock()
	r.starting++
	r.mu.Unlock()
	pid, err := syscall.ForkExec(argv0, argv, attr)
	if err == nil && r.afterFork != nil {
		r.afterFork(pid)
	}
	r.mu.Lock()
	r.starting--
	e, early := r.early[pid]
	switch {
	case err != nil:
	case early:
		delete(r.early, pid)
		r.orphans--
	default:
		r.owners[pid] = onExit
		delete(r.adopted, pid) // a new process: an old adoption's watch must not end it
	}
	if r.starting == 0 {
		clear(r.early) // orphans'
	}
	r.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if early {
		// Not on the caller's goroutine: onExit may post to a loop that is
		// the caller.
		go r.deliver(onExit, e)
	}
	return pid, nil
}

// Adopt registers onExit for pid, a process we did not start (a daemon's
// forked main process, which becomes our child when its parent exits). It
// reports false if pid is already gone (reaped as an orphan): its status is lost.
// A parent that stays (a double fork whose middle process waits) reaps
// it instead of us: a pidfd then tells its end, with the status unknown.
func (r *Reaper) Adopt(pid int, onExit func(Exit)) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err == unix.ESRCH {
		return false
	}
	r.owners[pid] = onExit
	if err != nil { // no pidfd (before Linux 5.10): only an exit as our child is seen
		if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
			delete(r.owners, pid)
			return false
		}
		return true
	}
	a := &adoption{onExit}
	r.adopted[pid] = a
	go r.watchAdopted(pid, a, os.NewFile(uintptr(fd), "pidfd"))
	return true
}

// adoption identifies one Adopt: a later process with the same pid is
// not it.
type adoption struct{ onExit func(Exit) }

// watchAdopted waits (in the poller, no thread held) until the pidfd's
// process exited. If it is not our child then, its parent reaps it and no
// wait4 of ours sees it: its owner gets a lost exit.
func (r *Reaper) watchAdopted(pid int, a *adoption, f *os.File) {
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		r.log.Error("reaper: watch adopted process", "pid", pid, "err", err)
		return
	}
	err = rc.Read(func(fd uintptr) bool {
		n, _ := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 0)
		return n > 0 // it exited
	})
	if err != nil {
		r.log.Error("reaper: watch adopted process", "pid", pid, "err", err)
		r.forget(pid, a)
		return
	}
	// It exited. A zombie of another parent becomes ours if that parent
	// exits first, and reapAll then has its status; one reaped by its
	// parent is lost to us. Parents reap or exit at once, mostly: checked
	// every zombieCheck until one of the two happened.
	for {
		r.mu.Lock()
		if r.adopted[pid] != a { // reaped by reapAll (under mu), or replaced
			r.mu.Unlock()
			return
		}
		st, serr := readStat(pid)
		switch {
		case serr == nil && st.state == "Z" && st.ppid == os.Getpid():
			delete(r.adopted, pid) // ours now: reapAll delivers its status
			r.mu.Unlock()
			return
		case serr != nil || st.state != "Z": // reaped by its parent
			delete(r.adopted, pid)
			delete(r.owners, pid)
			r.mu.Unlock()
			r.deliver(a.onExit, Exit{PID: pid, Lost: true})
			return
		}
		r.mu.Unlock()
		time.Sleep(zombieCheck)
	}
}

// zombieCheck is how often an adopted zombie of another parent is looked at.
const zombieCheck = 50 * time.Millisecond

func (r *Reaper) forget(pid int, a *adoption) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.adopted[pid] == a {
		delete(r.adopted, pid)
	}
}

// Owns reports whether pid is a child someone awaits the exit of.
func (r *Reaper) Owns(pid int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.owners[pid] != nil
}

// RunCommand starts argv and waits for it, through the reaper. It is the
// replacement for exec.Cmd.Run inside the daemon; Run must be running. When
// ctx ends, the command's process group is killed and reaped first.
func (r *Reaper) RunCommand(ctx context.Context, argv []string, env []string, stdout *os.File) (Exit, error) {
	if err := ctx.Err(); err != nil {
		return Exit{}, err
	}
	path, err := lookPath(argv[0], env)
	if err != nil {
		return Exit{}, err
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0) // writable: a probe may print
	if err != nil {
		return Exit{}, err
	}
	defer devnull.Close()
	out := devnull.Fd()
	if stdout != nil {
		out = stdout.Fd()
	}
	done := make(chan Exit, 1)
	pid, err := r.Start(path, argv, &syscall.ProcAttr{
		Env:   env,
		Files: []uintptr{devnull.Fd(), out, out},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	}, func(e Exit) { done <- e })
	if err != nil {
		return Exit{}, fmt.Errorf("start %s: %w", argv[0], err)
	}
	select {
	case e := <-done:
		return e, nil
	case <-ctx.Done():
		select {
		case e := <-done: // already reaped: its pid may be reused, do not kill
			return e, nil
		default:
		}
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		return <-done, ctx.Err()
	}
}

// RunOutput runs argv like RunCommand and returns its exit code (128+N
// for a signal, as a shell says it) and its output, stdout and stderr
// together, at most 1 MiB.
func (r *Reaper) RunOutput(ctx context.Context, argv, env []string) (int, []byte, error) {
	rd, w, err := os.Pipe()
	if err != nil {
		return 0, nil, err
	}
	outc := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(rd, 1<<20))
		io.Copy(io.Discard, rd)
		rd.Close()
		outc <- b
	}()
	e, err := r.RunCommand(ctx, argv, env, w)
	w.Close()
	// A child it left running may hold the pipe open: the output so far
	// is enough once the command itself is done.
	var out []byte
	select {
	case out = <-outc:
	case <-time.After(time.Second):
		rd.Close()
		out = <-outc
	}
	if err != nil {
		return 0, out, err
	}
	return e.Code(), out, nil
}

// Code is the exit code as a shell gives it: 128+N for signal N, -1 when
// the status is unknown.
func (e Exit) Code() int {
	switch {
	case e.Lost:
		return -1
	case e.Status.Signaled():
		return 128 + int(e.Status.Signal())
	}
	return e.Status.ExitStatus()
}

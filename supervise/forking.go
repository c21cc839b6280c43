package supervise

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/fsnotify/fsnotify"
	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/event"
	"github.com/unit-os/unit/safepath"
)

// ready = "forking" (systemd's Type=forking): the started process forks
// the daemon and exits 0; the daemon's pid, read from pid_file, becomes
// the main process. The daemon was reparented to us (PID 1 or the
// subreaper), so the one reaper gets its exit once it is adopted.

// maxPIDFile bounds what is read of a pid file.
const maxPIDFile = 64

// errNoPID is a pid file that is missing or not yet written.
var errNoPID = errors.New("no pid yet")

// forkParentExited handles the first process's exit 0: the pid file is
// read now, or awaited (a daemon may write it after its parent exited).
func (s *Supervisor) forkParentExited(v *service, gen int, e Exit) {
	v.forked, v.forkExit = true, &e
	pid, err := readPIDFile(v.cfg.PIDFile)
	switch {
	case err == nil:
		s.takeMain(v, gen, pid)
		s.reconcileFor(v)
	case errors.Is(err, errNoPID):
		s.awaitPIDFile(v, gen)
	default:
		s.forkFailed(v, e, err)
	}
}

// awaitPIDFile watches the pid file's directory until the file names a
// pid; the ready timeout (readyTimedOut) or a stop ends the wait.
func (s *Supervisor) awaitPIDFile(v *service, gen int) {
	path := v.cfg.PIDFile
	w, err := fsnotify.NewWatcher()
	if err == nil {
		if err = w.Add(filepath.Dir(path)); err != nil {
			w.Close()
		}
	}
	if err != nil {
		s.forkFailed(v, *v.forkExit, fmt.Errorf("pid file %s: cannot watch for it: %w", path, err))
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	v.control = cancel
	go func() {
		defer w.Close()
		defer func() {
			if p := recover(); p != nil {
				s.recovered(p)
			}
		}()
		for {
			// Added before this read: a write after it is an event.
			pid, err := readPIDFile(path)
			if !errors.Is(err, errNoPID) {
				s.post(func() {
					if v.gen != gen || v.forkExit == nil {
						return
					}
					v.control = nil
					if err != nil {
						s.forkFailed(v, *v.forkExit, err)
					} else {
						s.takeMain(v, gen, pid)
					}
					s.reconcileFor(v)
				})
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-w.Events:
			case err := <-w.Errors:
				s.log.Warn("pid file watch", "path", path, "err", err)
				return
			}
		}
	}()
}

// takeMain makes the pid file's pid the main process, if it is the
// service's; systemd refuses a pid file naming an unrelated process.
func (s *Supervisor) takeMain(v *service, gen, pid int) {
	e := *v.forkExit
	if err := s.ownsForked(v, pid); err != nil {
		s.forkFailed(v, e, fmt.Errorf("pid file %s names pid %d: %w", v.cfg.PIDFile, pid, err))
		return
	}
	v.forkExit = nil
	alive := s.reaper.Adopt(pid, func(e Exit) { s.post(func() { s.exited(v, gen, e) }) })
	old := v.pid
	v.pid = pid
	s.emit(event.Event{Resource: "service:" + v.name, State: v.state, Message: fmt.Sprintf("main pid %d (was %d)", pid, old),
		Fields: event.Fields{"pid": pid}})
	if !alive {
		s.mainGone(v, gen, Exit{PID: pid, Lost: true})
		return
	}
	s.markReady(v)
}

// forkFailed ends a forking start whose main process is unknown: what it
// left is killed and the start counts as failed.
func (s *Supervisor) forkFailed(v *service, e Exit, err error) {
	s.log.Warn("forking service: no main process", "name", v.name, "err", err)
	v.startFailure = err.Error()
	if errors.Is(err, errStopRequested) {
		v.startFailure = ""
	}
	s.mainGone(v, v.gen, e) // kills what it left, as kill_mode says

}

// removePIDFile removes the pid file once the service is dead, as
// systemd does: a restart must not take the old daemon's pid for the new
// one's before the new one wrote it. Not through a symlink (safepath).
func (s *Supervisor) removePIDFile(v *service, cfg *config.Service) {
	if cfg.PIDFile == "" {
		return
	}
	d, base, err := safepath.OpenParent(cfg.PIDFile)
	if err == nil {
		err = unix.Unlinkat(d.Fd(), base, 0)
		d.Close()
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("remove pid file", "name", v.name, "path", cfg.PIDFile, "err", err)
	}
}

// readPIDFile reads a pid from path without following a symlink at its
// end (safepath judges the directories above), at most maxPIDFile bytes.
// errNoPID means it is not there (or not written) yet.
func readPIDFile(path string) (int, error) {
	d, base, err := safepath.OpenParent(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, errNoPID
		}
		return 0, fmt.Errorf("pid file %s: %w", path, err)
	}
	defer d.Close()
	fd, err := unix.Openat(d.Fd(), base, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	switch {
	case errors.Is(err, unix.ENOENT):
		return 0, errNoPID
	case errors.Is(err, unix.ELOOP):
		return 0, fmt.Errorf("pid file %s: a symlink, not followed", path)
	case err != nil:
		return 0, fmt.Errorf("pid file %s: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return 0, fmt.Errorf("pid file %s: not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxPIDFile+1))
	if err != nil {
		return 0, fmt.Errorf("pid file %s: %w", path, err)
	}
	if len(b) > maxPIDFile {
		return 0, fmt.Errorf("pid file %s: longer than %d bytes", path, maxPIDFile)
	}
	text := strings.TrimSpace(string(b))
	if text == "" {
		return 0, errNoPID // created, not written yet
	}
	pid, err := strconv.Atoi(text)
	if err != nil || pid <= 1 {
		return 0, fmt.Errorf("pid file %s: %q is not a pid", path, text)
	}
	return pid, nil
}

// ownsForked checks that pid is the service's daemon: in its cgroup when
// there are cgroups; on a host, in its process group or session, or
// reparented to us since the service was spawned and no one else's.
func (s *Supervisor) ownsForked(v *service, pid int) error {
	if pid == os.Getpid() {
		return errors.New("that is unit itself")
	}
	if v.cgroup != "" {
		if s.owns(v, pid) {
			return nil
		}
		return fmt.Errorf("not in the service's cgroup %s", v.cgroup)
	}
	st, err := readStat(pid)
	if err != nil {
		return err
	}
	if st.pgrp == v.pgid || st.session == v.pgid {
		return nil
	}
	if st.ppid == os.Getpid() && st.start >= v.spawnTicks && !s.reaper.Owns(pid) {
		return nil
	}
	return errors.New("not a process of the service")
}

// procStat is what ownsForked needs of /proc/PID/stat.
type procStat struct {
	state               string
	ppid, pgrp, session int
	start               uint64 // clock ticks since boot
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, fmt.Errorf("no such process: %w", err)
	}
	// The command name is in parentheses and may hold anything.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	// f[0] is the state (field 3); ppid, pgrp, session are 4-6, starttime 22.
	var st procStat
	st.state = f[0]
	st.ppid, _ = strconv.Atoi(f[1])
	st.pgrp, _ = strconv.Atoi(f[2])
	st.session, _ = strconv.Atoi(f[3])
	st.start, _ = strconv.ParseUint(f[19], 10, 64)
	return st, nil
}

// bootTicks is the boot clock in /proc's clock ticks (USER_HZ, 100 on
// Linux), less one for rounding.
func bootTicks() uint64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts) != nil {
		return 0
	}
	t := uint64(ts.Sec)*100 + uint64(ts.Nsec)/1e7
	if t > 0 {
		t--
	}
	return t
}

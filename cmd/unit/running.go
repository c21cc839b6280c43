package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/api"
)

// cmdIsSystemRunning is systemctl's is-system-running: the daemon's state
// on stdout (unless -q), exit 0 only for running. --wait first waits for
// the socket to appear and the daemon to leave starting.
func cmdIsSystemRunning(args []string) error {
	fs := newFlags("is-system-running")
	wait := fs.Bool("wait", false, "wait until unit has started: its socket exists and the first convergence handed the services over")
	timeout := fs.Duration("timeout", 90*time.Second, "with --wait, give up after this long")
	quiet := fs.Bool("q", false, "print nothing, answer with the exit code only")
	socket := socketFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return errUsage("is-system-running")
	}
	say := func(state string) {
		if !*quiet {
			fmt.Println(state)
		}
	}
	ctx, cancel := interruptible()
	defer cancel()
	req := api.Request{Cmd: "status"}
	if *wait {
		deadline := time.Now().Add(*timeout)
		wctx, wcancel := context.WithDeadline(ctx, deadline)
		err := waitSocket(wctx, *socket)
		wcancel()
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no unit answered on %s within %s", *socket, *timeout)
		}
		if err != nil {
			say("offline")
			return err
		}
		// The daemon answers when its state changes, or with "starting"
		// at the deadline; the grace is for its answer to arrive.
		req.Wait = time.Until(deadline)
		var gcancel context.CancelFunc
		ctx, gcancel = context.WithDeadline(ctx, deadline.Add(10*time.Second))
		defer gcancel()
	}
	rep, err := callOne[api.StatusReply](ctx, *socket, req)
	if err == nil && rep.State == "" && ctx.Err() != nil {
		err = fmt.Errorf("%s: no answer: %w", *socket, ctx.Err())
	}
	if err != nil {
		say("offline")
		return err
	}
	if rep.State == "" {
		rep.State = "unknown" // a daemon that predates the state
	}
	say(rep.State)
	if rep.State != api.SystemRunning {
		return exitCode(1)
	}
	return nil
}

// waitSocket returns once a daemon may answer on socket: a local socket
// accepts a connection; a machine's control port exists. Until then it
// waits for the socket's directory (or the nearest one that exists) to
// change, with inotify, until ctx ends.
func waitSocket(ctx context.Context, socket string) error {
	path, machine := socket, false
	if dir, ok := strings.CutPrefix(socket, api.MachinePrefix); ok {
		path, machine = api.MachineSocket(dir), true
	}
	ready := func() (bool, error) {
		if machine {
			// Connecting would take the port from another client.
			_, err := os.Stat(path)
			return err == nil, nil
		}
		c, err := net.Dial("unix", path)
		if err == nil {
			c.Close()
			return true, nil
		}
		// Not there yet, or a stale socket left by a daemon that is gone
		// (the next one replaces it): wait. Anything else is an answer.
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return false, nil
		}
		return false, fmt.Errorf("connect to unit at %s: %w", path, err)
	}
	for {
		if ok, err := ready(); ok || err != nil {
			return err
		}
		if err := waitDirChange(ctx, path, ready); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%s: %w", path, ctx.Err())
			}
			return err
		}
	}
}

// waitDirChange watches the deepest existing directory on the way to path
// for an entry created or moved in, and returns after one (or at once if
// ready says yes once the watch is set, which closes the race between the
// first look and the watch).
func waitDirChange(ctx context.Context, path string, ready func() (bool, error)) error {
	dir := filepath.Dir(path)
	for {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return fmt.Errorf("wait for %s: no directory of its path exists", path)
		}
		dir = parent
	}
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return fmt.Errorf("wait for %s: inotify: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), "inotify")
	defer f.Close()
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE|unix.IN_MOVED_TO|unix.IN_DELETE_SELF|unix.IN_MOVE_SELF|unix.IN_ONLYDIR); err != nil {
		return fmt.Errorf("wait for %s: watch %s: %w", path, dir, err)
	}
	if ok, err := ready(); ok || err != nil {
		return err
	}
	// A non-blocking inotify fd is in Go's poller: a deadline wakes Read.
	stop := context.AfterFunc(ctx, func() { f.SetReadDeadline(time.Now()) })
	defer stop()
	buf := make([]byte, 4096)
	if _, err := f.Read(buf); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("wait for %s: read inotify: %w", path, err)
	}
	return nil
}

package pid1

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/daemon"
	"github.com/unit-os/unit/kmod"
)

// watchdogTimeout is what the hardware watchdog is set to: a PID 1 that
// stops answering for this long gets the machine reset. The kernel
// command line can change it: unit.watchdog=10s (or =10, in seconds).
const watchdogTimeout = 30 * time.Second

// watchdogParam is the kernel command line parameter for the timeout.
const watchdogParam = "unit.watchdog"

// watchdogTimeoutFrom picks the timeout from a kernel command line.
func watchdogTimeoutFrom(cmdline string) (time.Duration, error) {
	for _, f := range strings.Fields(cmdline) {
		v, ok := strings.CutPrefix(f, watchdogParam+"=")
		if !ok {
			continue
		}
		d, err := time.ParseDuration(v)
		if n, nerr := strconv.Atoi(v); nerr == nil {
			d, err = time.Duration(n)*time.Second, nil
		}
		if err != nil || d < time.Second || d%time.Second != 0 {
			return watchdogTimeout, fmt.Errorf("%s=%q: want whole seconds, at least 1 (e.g. 10s or 10); using %s", watchdogParam, v, watchdogTimeout)
		}
		return d, nil
	}
	return watchdogTimeout, nil
}

// hardwareWatchdog pets /dev/watchdog, when the machine has one, for as long
// as PID 1 works: once the control socket has answered, each pet is a real
// `status` request through the socket and the supervisor loop, so a hung
// loop (not only a dead process) stops the petting. It is the only periodic
// wake-up of PID 1, and only exists on machines with a watchdog device.
func hardwareWatchdog(ctx context.Context, log *slog.Logger, console io.Writer, socket string) {
	defer daemon.RecoverLog(log, "hardware watchdog")
	f, err := os.OpenFile("/dev/watchdog", os.O_WRONLY, 0)
	if err != nil {
		if !os.IsNotExist(err) {
			log.Warn("hardware watchdog", "err", err)
		}
		return
	}
	defer f.Close()
	fd := int(f.Fd())
	ident := "watchdog"
	if info, err := unix.IoctlGetWatchdogInfo(fd); err == nil {
		ident = string(bytes.TrimRight(info.Identity[:], "\x00"))
	}
	cmdline, _ := os.ReadFile("/proc/cmdline")
	timeout, err := watchdogTimeoutFrom(string(cmdline))
	if err != nil {
		log.Warn("hardware watchdog", "err", err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.WDIOC_SETTIMEOUT, int(timeout/time.Second)); err != nil {
		log.Warn("hardware watchdog: cannot set timeout; using the device's", "err", err)
		if t, err := unix.IoctlGetInt(fd, unix.WDIOC_GETTIMEOUT); err == nil && t > 0 {
			timeout = time.Duration(t) * time.Second
		}
	}
	fmt.Fprintf(console, "unit: hardware watchdog %q armed, timeout %s\n", ident, timeout)
	petWhileAlive(ctx, log, timeout/3,
		func(ctx context.Context, within time.Duration) bool { return pid1Alive(ctx, socket, within) },
		func() error { return unix.IoctlWatchdogKeepalive(fd) })
	// A clean stop disarms it ("magic close"); final() reboots anyway.
	_, _ = f.Write([]byte("V"))
}

// petWhileAlive pets every interval while alive answers within it. Before
// the first answer (the daemon is still starting) it pets regardless; once
// PID 1 has answered, an unanswered probe means a hung loop, and the
// petting stops so the watchdog resets the machine. Returns when ctx ends.
func petWhileAlive(ctx context.Context, log *slog.Logger, every time.Duration, alive func(context.Context, time.Duration) bool, pet func() error) {
	answered := false
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		ok := alive(ctx, every)
		answered = answered || ok
		if ok || !answered {
			if err := pet(); err != nil {
				log.Error("hardware watchdog keepalive", "err", err)
			}
		} else {
			log.Error("hardware watchdog: PID 1 did not answer; not petting")
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// pid1Alive asks the daemon for status through its control socket.
func pid1Alive(ctx context.Context, socket string, within time.Duration) bool {
	cctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	err := api.Call(cctx, socket, api.Request{Cmd: "status"}, nil)
	// Call ends quietly when its context does: a timeout is not an answer.
	return err == nil && cctx.Err() == nil
}

// softWatchdog makes sure /dev/watchdog exists: a hardware watchdog's
// driver (loaded by cold-plug) or else the kernel's softdog, a timer in
// the kernel that a hung PID 1 stops petting as it would a hardware one
// (softdog cannot help a kernel that hangs). The node is made here when
// devtmpfs has not made it yet: the misc device's number is fixed.
func softWatchdog() error {
	const dev = "/dev/watchdog"
	if _, err := os.Stat(dev); err == nil {
		return nil
	}
	l, err := kmod.NewLoader("")
	if err != nil {
		return fmt.Errorf("softdog: %w", err)
	}
	if _, err := l.Load("softdog"); err != nil {
		return fmt.Errorf("softdog: %w", err)
	}
	if err := unix.Mknod(dev, unix.S_IFCHR|0o600, int(unix.Mkdev(10, 130))); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("softdog: %s: %w", dev, err)
	}
	return nil
}

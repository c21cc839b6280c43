package daemon

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// RunHost runs the daemon on a host as a child subreaper: orphans of its
// services reparent to it (not to the host's init) and it reaps them, so
// host mode exercises the same reaper as PID 1. SIGINT/SIGTERM stop it.
func RunHost(o Options) error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("become subreaper: %w", err)
	}
	if o.StateDir == "" {
		o.StateDir = "/run/unit"
	}
	if err := os.MkdirAll(o.StateDir, 0o755); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return Run(ctx, o)
}

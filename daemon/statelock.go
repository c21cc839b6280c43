package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// lockState makes this process the one daemon of stateDir: two daemons on
// one state directory would each start every service and fight over the
// socket. The lock is an flock on STATE/unit.lock, held until the
// returned file is closed (or the process dies: the kernel drops it, so a
// crashed daemon leaves no stale lock). The file holds the holder's pid,
// for the error the next one prints.
func lockState(stateDir string) (*os.File, error) {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, fmt.Errorf("state %s: %w", stateDir, err)
	}
	path := filepath.Join(stateDir, "unit.lock")
	// O_NOFOLLOW: a symlink planted there must not make us truncate its target.
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("state lock %s: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			b := make([]byte, 32)
			n, _ := f.ReadAt(b, 0)
			holder := strings.TrimSpace(string(b[:n]))
			if _, perr := strconv.Atoi(holder); perr != nil {
				holder = "unknown"
			}
			return nil, fmt.Errorf("another unit runs with state directory %s (pid %s); stop it first, or give this one another --state", stateDir, holder)
		}
		return nil, fmt.Errorf("state lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

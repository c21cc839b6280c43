package safepath

import (
	"syscall"

	"golang.org/x/sys/unix"
)

func asUser(uid uint32) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
}

// umask sets the process umask; tests that use it do not run in parallel.
func umask(m int) int { return unix.Umask(m) }

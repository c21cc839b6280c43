package cm

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// readRegular reads the regular file at path whose lstat said size bytes,
// with raw syscalls: open, read until EOF, close. os.ReadFile adds an fstat
// and, through the runtime's poller setup, five fcntl/epoll calls per file,
// which a no-op pass over thousands of files pays for nothing. O_NOFOLLOW:
// if a symlink replaced the file since the lstat, fail rather than read
// through it (the next event looks again).
func readRegular(path string, size int64) (_ []byte, err error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer unix.Close(fd)
	// One byte more than expected, so a file that grew meanwhile is read
	// on instead of being taken as complete.
	buf := make([]byte, 0, size+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}

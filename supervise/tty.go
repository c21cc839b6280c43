package supervise

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// openTTY opens a service's terminal: a character device under /dev,
// never through a symlink, and not as our own controlling terminal.
// "console" is the device behind /dev/console (the last console= of the
// kernel command line), so a shell gets job control there.
func openTTY(name string) (*os.File, error) {
	path := name
	if name == "console" {
		path = consoleDevice()
	}
	if !strings.HasPrefix(path, "/dev/") {
		return nil, fmt.Errorf("tty %s: not a device under /dev", path)
	}
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("tty %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR {
		unix.Close(fd)
		return nil, fmt.Errorf("tty %s: not a character device", path)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// consoleDevice is /dev/NAME of the kernel's active console, else
// /dev/console.
func consoleDevice() string {
	b, err := os.ReadFile("/sys/class/tty/console/active")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		name := f[len(f)-1]
		if !strings.ContainsAny(name, "/.") {
			return "/dev/" + name
		}
	}
	return "/dev/console"
}

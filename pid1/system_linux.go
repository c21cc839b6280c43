package pid1

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// setHostname sets the kernel hostname (UTS namespace) and /etc/hostname.
func setHostname(name string) error {
	if name == "" {
		return nil
	}
	if err := unix.Sethostname([]byte(name)); err != nil {
		return fmt.Errorf("sethostname %q: %w", name, err)
	}
	return nil
}

// protectLinks turns on the kernel's protections that systemd turns on
// (its 50-default.conf) and the kernel leaves off: no hard link to a file
// one cannot write, no following another user's link in a sticky
// world-writable directory, no opening another's fifo or file there with
// O_CREAT. The config's safe walks (package safepath) hold without them;
// these close the same doors for every other process. A [sysctl] resource
// may still change them.
func protectLinks() error {
	var errs []error
	for _, k := range []string{"protected_hardlinks", "protected_symlinks", "protected_fifos", "protected_regular"} {
		if err := os.WriteFile("/proc/sys/fs/"+k, []byte("1"), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("fs.%s: %w", k, err))
		}
	}
	return errors.Join(errs...)
}

// readRelease is the image's release id, "" when it has none.
func readRelease() string {
	b, err := os.ReadFile("/usr/lib/unit/release")
	if err != nil || len(b) > 256 {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// loopbackUp brings lo up through netlink; the kernel assigns 127.0.0.1/8
// and ::1 itself once the link is up.
func loopbackUp() error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("link lo: %w", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return fmt.Errorf("link lo up: %w", err)
	}
	return nil
}

// Command helloinit is the floor bench/boot.sh measures unit's boot
// against: a static Go /init that mounts /proc, says when it started and
// powers off, on the kernel's clock (CLOCK_BOOTTIME, as unit's lines).
package main

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

func since() float64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano()).Seconds()
}

func main() {
	if err := unix.Mount("proc", "/proc", "proc", 0, ""); err != nil {
		fmt.Fprintf(os.Stderr, "hello: mount /proc: %v\n", err)
	}
	fmt.Printf("hello: PID %d, started %.3fs after kernel start\n", os.Getpid(), since())
	fmt.Printf("hello: power off %.3fs after kernel start\n", since())
	for {
		// PID 1 must not exit: that panics the kernel.
		if err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
			fmt.Fprintf(os.Stderr, "hello: reboot(2): %v\n", err)
		}
		time.Sleep(time.Second)
	}
}

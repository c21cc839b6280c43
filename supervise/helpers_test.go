package supervise

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sdNotify sends one datagram to $NOTIFY_SOCKET, as sd_notify(3) does.
func sdNotify(msg string) {
	addr := &net.UnixAddr{Name: os.Getenv("NOTIFY_SOCKET"), Net: "unixgram"}
	c, err := net.DialUnix("unixgram", nil, addr)
	if err != nil {
		fmt.Println("notify:", err)
		os.Exit(2)
	}
	defer c.Close()
	if _, err := c.Write([]byte(msg)); err != nil {
		fmt.Println("notify:", err)
		os.Exit(2)
	}
}

// helperWatchdog is ready, pings the watchdog UNIT_TEST_PINGS times at a
// quarter of WATCHDOG_USEC, then hangs without pinging.
func helperWatchdog() {
	fmt.Println("WATCHDOG_USEC=" + os.Getenv("WATCHDOG_USEC"))
	usec, _ := strconv.Atoi(os.Getenv("WATCHDOG_USEC"))
	pings, _ := strconv.Atoi(os.Getenv("UNIT_TEST_PINGS"))
	sdNotify("READY=1\nSTATUS=serving")
	for i := 0; i < pings; i++ {
		time.Sleep(time.Duration(usec) * time.Microsecond / 4)
		sdNotify("WATCHDOG=1")
	}
	fmt.Println("hanging")
	time.Sleep(time.Hour)
}

// helperMainPID forks a daemon the classic way: it starts a child in its
// process group, reports it as MAINPID, then exits.
func helperMainPID() {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "UNIT_TEST_HELPER=idle")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Println("fork:", err)
		os.Exit(2)
	}
	sdNotify(fmt.Sprintf("MAINPID=%d\nSTATUS=forked\nREADY=1", cmd.Process.Pid))
	time.Sleep(100 * time.Millisecond)
	fmt.Println("parent exits")
}

func fmtSscan(line string, pid *int) (int, error) { return fmt.Sscanf(line, "child %d", pid) }

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

func killPID(pid int) { _ = syscall.Kill(pid, syscall.SIGKILL) }

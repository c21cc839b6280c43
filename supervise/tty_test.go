package supervise

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/config"
)

// openPTY returns a pseudo-terminal's master and its slave's path.
func openPTY(t *testing.T) (*os.File, string) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	return m, fmt.Sprintf("/dev/pts/%d", n)
}

// A service with a tty has it as stdin/stdout/stderr and as the
// controlling terminal of a session of its own (what a console shell
// needs for job control and ctrl-c).
func TestServiceTTY(t *testing.T) {
	m, pts := openPTY(t)
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"shell": {Exec: sh(`echo "TTY=$(tty) SID=$(cut -d' ' -f6 /proc/$$/stat) PID=$$ CTTY=$(cut -d' ' -f7 /proc/$$/stat)"; exec sleep 100`), TTY: pts},
	})
	h.rec.wait(t, "shell", "running")
	lines := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(m)
		for sc.Scan() {
			lines <- strings.TrimSpace(sc.Text())
		}
	}()
	select {
	case l := <-lines:
		var tty string
		var sid, pid, ctty int
		if _, err := fmt.Sscanf(l, "TTY=%s SID=%d PID=%d CTTY=%d", &tty, &sid, &pid, &ctty); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if tty != pts || sid != pid || ctty == 0 {
			t.Errorf("tty %s (want %s), session %d (want its own, %d), controlling tty %d (want one)", tty, pts, sid, pid, ctty)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("nothing on the terminal")
	}
}

// A tty must be a character device reached without a symlink.
func TestServiceTTYRefusals(t *testing.T) {
	_, pts := openPTY(t)
	outside := filepath.Join(t.TempDir(), "tty")
	if err := os.Symlink(pts, outside); err != nil {
		t.Fatal(err)
	}
	shm, err := os.MkdirTemp("/dev/shm", "unit-tty-test-")
	if err != nil {
		t.Skipf("no /dev/shm: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(shm) })
	file, link := filepath.Join(shm, "file"), filepath.Join(shm, "link")
	os.WriteFile(file, nil, 0o600)
	if err := os.Symlink(pts, link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{file, "not a character device"},
		{link, "too many levels of symbolic links"},
		{outside, "not a device under /dev"},
	} {
		if _, err := openTTY(c.path); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("openTTY(%s) = %v, want %q", c.path, err, c.want)
		}
	}
	if f, err := openTTY(pts); err != nil {
		t.Errorf("openTTY(%s): %v", pts, err)
	} else {
		f.Close()
	}
}

package supervise

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unit-os/unit/config"
)

// testCgroup makes a cgroup v2 directory for one test, or skips: hosts
// with a cgroup2 mount (pure or hybrid "unified") and root can run it.
func testCgroup(t *testing.T) string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	root := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for i, x := range fields {
			if x == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" {
				root = fields[4]
			}
		}
	}
	if root == "" {
		t.Skip("no cgroup2 mount")
	}
	dir := filepath.Join(root, fmt.Sprintf("unit-test-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "-")))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot make a cgroup: %v", err)
	}
	t.Cleanup(func() {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if e.IsDir() {
				os.Remove(filepath.Join(dir, e.Name()))
			}
		}
		os.Remove(dir)
	})
	return dir
}

// The exit of a service whose cgroup still has processes is handled only
// once the cgroup is empty, as the kernel reports through cgroup.events.
func TestAwaitEmpty(t *testing.T) {
	cg := filepath.Join(testCgroup(t), "svc")
	if err := os.Mkdir(cg, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sleep", "100")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if err := os.WriteFile(filepath.Join(cg, "cgroup.procs"), []byte(strconv.Itoa(cmd.Process.Pid)), 0); err != nil {
		t.Skipf("cannot move a process into a cgroup: %v", err)
	}
	h := newHarness(t)
	ran := make(chan struct{})
	h.s.call(h.ctx, func() error {
		v := &service{name: "svc", cgroup: cg, draining: true, gen: 1}
		if !h.s.cgroupPopulated(v) {
			t.Error("populated cgroup reported empty")
		}
		h.s.awaitEmpty(v, 1, func() { close(ran) })
		return nil
	})
	select {
	case <-ran:
		t.Fatal("ran while the cgroup had a process")
	case <-time.After(300 * time.Millisecond):
	}
	cmd.Process.Kill()
	cmd.Wait()
	select {
	case <-ran:
	case <-time.After(waitTimeout):
		t.Fatal("did not run once the cgroup was empty")
	}
}

// In cgroup mode, Stop returns only when everything the service started
// is gone, a child that ignores the stop signal included.
func TestStopEmptiesCgroup(t *testing.T) {
	root := testCgroup(t)
	h := newHarness(t, WithCgroups(root))
	h.set(map[string]*config.Service{
		"leaky": {Exec: sh("(trap '' TERM; exec sleep 100) & echo child $!; exec sleep 100")},
	})
	h.rec.wait(t, "leaky", "running")
	h.waitLog("leaky", func(s string) bool { return strings.HasPrefix(s, "child ") })
	cg := filepath.Join(root, "leaky")
	if st := h.status("leaky"); st.Cgroup != cg {
		t.Fatalf("cgroup %q, want %q", st.Cgroup, cg)
	}
	if err := h.s.Stop(h.ctx, "leaky"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(cg, "cgroup.procs")); len(strings.TrimSpace(string(b))) != 0 {
		t.Errorf("Stop returned with processes left in the cgroup: %q", b)
	}
}

// A service whose leftovers were killed through cgroup.kill restarts
// normally: its next run gets a fresh cgroup (see cgroupFor).
func TestRestartAfterCgroupKill(t *testing.T) {
	h := newHarness(t, WithCgroups(testCgroup(t)))
	h.set(map[string]*config.Service{
		"leaky": {Exec: sh("sleep 100 & sleep 0.1; exit 1"), Restart: config.RestartAlways},
	})
	for n := 1; n <= 3; n++ {
		_, e := h.rec.waitCount(t, "leaky", "backoff", n)
		if !strings.Contains(e.Message, "exit 1") {
			t.Fatalf("run %d ended %q, want exit 1 (a run killed at birth means a poisoned cgroup)", n, e.Message)
		}
	}
}

// inotifyFDs counts this process's inotify instances.
func inotifyFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	n := 0
	for _, fd := range fds {
		if l, _ := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); l == "anon_inode:inotify" {
			n++
		}
	}
	return n
}

// Every drain shares one inotify watcher, and each ends when its own
// cgroup.events says empty. The cgroups are faked: a file the test
// rewrites as the kernel would.
func TestDrainsShareOneWatcher(t *testing.T) {
	h := newHarness(t)
	before := inotifyFDs(t)
	var dirs []string
	ran := make(chan string, 3)
	for _, name := range []string{"a", "b", "c"} {
		dir := filepath.Join(t.TempDir(), name)
		os.Mkdir(dir, 0o755)
		if err := os.WriteFile(filepath.Join(dir, "cgroup.events"), []byte("populated 1\nfrozen 0\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
		h.s.call(h.ctx, func() error {
			v := &service{name: name, cgroup: dir, draining: true, gen: 1}
			h.s.awaitEmpty(v, 1, func() { ran <- name })
			return nil
		})
	}
	if n := inotifyFDs(t) - before; n != 1 {
		t.Errorf("%d inotify instances for 3 drains, want 1", n)
	}
	for _, dir := range dirs {
		if err := os.WriteFile(filepath.Join(dir, "cgroup.events"), []byte("populated 0\nfrozen 0\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-ran:
			if got != filepath.Base(dir) {
				t.Errorf("emptied %s, %s ran", filepath.Base(dir), got)
			}
		case <-time.After(waitTimeout):
			t.Fatalf("emptied %s: nothing ran", filepath.Base(dir))
		}
	}
}

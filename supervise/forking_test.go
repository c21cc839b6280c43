package supervise

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/unit-os/unit/config"
)

// ready = "forking": the pid in pid_file becomes the main process, shown
// in status, stopped by Stop, and its death restarts the service. The
// second service writes its pid file after its first process exited.
func TestForkingPIDFile(t *testing.T) {
	dir := t.TempDir()
	pf, late := filepath.Join(dir, "d.pid"), filepath.Join(dir, "late.pid")
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"forker": {Exec: sh("sleep 100 & echo $! > " + pf + "; exit 0"), Ready: "forking", PIDFile: pf},
		"late": {Exec: sh(`sh -c "sleep 0.2; echo \$\$ > ` + late + `; exec sleep 100" & exit 0`),
			Ready: "forking", PIDFile: late},
	})
	h.rec.wait(t, "forker", StateRunning)
	h.rec.wait(t, "late", StateRunning)
	for name, file := range map[string]string{"forker": pf, "late": late} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if st := h.status(name); strconv.Itoa(st.PID) != strings.TrimSpace(string(b)) {
			t.Errorf("%s: status pid %d, pid file %q", name, st.PID, b)
		}
	}
	first := h.status("forker").PID
	killPID(first)
	h.rec.waitCount(t, "forker", StateRunning, 2)
	second := h.status("forker").PID
	if second == first || second == 0 {
		t.Errorf("after the daemon died: pid %d (was %d)", second, first)
	}
	if err := h.s.Stop(h.ctx, "forker"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the daemon to be gone", func() bool { return gone(second) })
	if st := h.status("forker"); st.State != StateStopped {
		t.Errorf("after Stop: %s (%s)", st.State, st.Reason)
	}
}

// A pid file naming a process that is not the service's (unit itself,
// the test runner) is refused, as systemd refuses it: the start fails.
func TestForkingRefusesUnrelatedPID(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t)
	svcs := map[string]*config.Service{}
	want := map[string]string{}
	for name, pid := range map[string]int{"self": os.Getpid(), "parent": os.Getppid()} {
		pf := filepath.Join(dir, name+".pid")
		svcs[name] = &config.Service{Exec: sh("echo " + strconv.Itoa(pid) + " > " + pf + "; exit 0"),
			Ready: "forking", PIDFile: pf, Restart: config.RestartNever}
		want[name] = "pid file " + pf + " names pid " + strconv.Itoa(pid) + ": "
	}
	link := filepath.Join(dir, "link.pid")
	if err := os.Symlink(filepath.Join(dir, "self.pid"), link); err != nil {
		t.Fatal(err)
	}
	svcs["link"] = &config.Service{Exec: sh("exit 0"), Ready: "forking", PIDFile: link, Restart: config.RestartNever}
	want["link"] = "pid file " + link + ": a symlink, not followed"
	h.set(svcs)
	for name, w := range want {
		h.rec.wait(t, name, StateExited)
		if st := h.status(name); !strings.Contains(st.Reason, w) || st.PID != 0 || h.rec.index(name, StateRunning) >= 0 {
			t.Errorf("%s: %s (%s), want %q", name, st.State, st.Reason, w)
		}
	}
}

// A daemon whose parent stays (the middle of a double fork waits for it)
// is never our child: its parent reaps it, so its end is seen through a
// pidfd. Its death restarts the service, and Stop ends it.
func TestForkingDaemonOfAnotherParent(t *testing.T) {
	pf := filepath.Join(t.TempDir(), "d.pid")
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"nested": {Exec: sh(`sh -c 'sleep 100 & echo $! > ` + pf + `; trap "" TERM; wait' & exit 0`),
			Ready: "forking", PIDFile: pf},
	})
	h.rec.wait(t, "nested", StateRunning)
	first := h.status("nested").PID
	killPID(first)
	h.rec.waitCount(t, "nested", StateRunning, 2)
	if st := h.status("nested"); st.PID == first || st.LastExit != "exit status unknown" {
		t.Errorf("after the daemon died: pid %d (was %d), last exit %q", st.PID, first, st.LastExit)
	}
	if err := h.s.Stop(h.ctx, "nested"); err != nil {
		t.Fatal(err)
	}
	if st := h.status("nested"); st.State != StateStopped {
		t.Errorf("after Stop: %s (%s)", st.State, st.Reason)
	}
}

package supervise

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/unit-os/unit/config"
)

// cgroupFS fakes a service's cgroup directory: the control files exist
// (empty), as cgroupfs makes them; what was written to them shows.
func cgroupFS(t *testing.T, dir string) {
	t.Helper()
	for _, f := range []string{"memory.max", "pids.max", "cpu.weight", "io.weight"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func controls(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, f := range []string{"memory.max", "pids.max", "cpu.weight", "io.weight"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		if len(b) > 0 {
			m[f] = string(b)
		}
	}
	return m
}

// removed reports whether the directory open as f was removed since.
func removed(t *testing.T, f *os.File) bool {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	return st.Nlink == 0
}

// A fresh cgroup gets only the limits that differ from its defaults; a
// reused one nothing unless the limits changed, then all of them.
func TestCgroupLimitWrites(t *testing.T) {
	s := New(testReaper, WithCgroups(t.TempDir()))
	dir := t.TempDir()
	cgroupFS(t, dir)
	v := &service{name: "a", cfg: &config.Service{Limits: config.Limits{Memory: 1 << 20}}}
	if err := s.writeLimits(v, dir, true); err != nil {
		t.Fatal(err)
	}
	if got := controls(t, dir); len(got) != 1 || got["memory.max"] != "1048576" {
		t.Errorf("fresh cgroup: wrote %v, want memory.max only", got)
	}

	cgroupFS(t, dir)
	v.cfg = &config.Service{Limits: config.Limits{Memory: 1 << 20}}
	if err := s.writeLimits(v, dir, false); err != nil {
		t.Fatal(err)
	}
	if got := controls(t, dir); len(got) != 0 {
		t.Errorf("reused cgroup, same limits: wrote %v", got)
	}

	v.cfg = &config.Service{Limits: config.Limits{Pids: 10}}
	if err := s.writeLimits(v, dir, false); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"memory.max": "max", "pids.max": "10", "cpu.weight": "100", "io.weight": "default 100"}
	if got := controls(t, dir); len(got) != 4 || got["memory.max"] != want["memory.max"] || got["pids.max"] != want["pids.max"] {
		t.Errorf("reused cgroup, new limits: wrote %v, want %v", got, want)
	}
}

// A restart reuses its emptied cgroup; one that was sent cgroup.kill is
// replaced by a fresh one (the kernel would kill what is cloned into it).
func TestCgroupReusedUnlessKilled(t *testing.T) {
	root := t.TempDir()
	s := New(testReaper, WithCgroups(root))
	v := &service{name: "a", cfg: &config.Service{}}
	fd, path, err := s.cgroupFor(v)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	v.cgroup = path

	again, _, err := s.cgroupFor(v)
	if err != nil {
		t.Fatal(err)
	}
	again.Close()
	if removed(t, fd) {
		t.Error("an emptied cgroup was removed and made again")
	}

	v.cgroupKilled = true
	fresh, _, err := s.cgroupFor(v)
	if err != nil {
		t.Fatal(err)
	}
	fresh.Close()
	if !removed(t, fd) || v.cgroupKilled {
		t.Error("a killed cgroup was reused")
	}
}

package supervise

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/unit-os/unit/config"
)

// cgroupFor creates (or reuses) the service's cgroup, writes its limits, and
// returns an open fd for clone3(CLONE_INTO_CGROUP): the child starts inside
// its cgroup, with no window where it could fork outside the limits.
func (s *Supervisor) cgroupFor(v *service) (*os.File, string, error) {
	dir := filepath.Join(s.cgroups, v.name)
	if v.pid > 0 && v.cgroup == dir {
		// exec_post beside the running main process: its cgroup as it is.
		fd, err := os.Open(dir)
		if err != nil {
			return nil, "", fmt.Errorf("cgroup %s: %w", dir, err)
		}
		return fd, dir, nil
	}
	// The cgroup of the last run is reused while it is as that run left it:
	// empty, and never sent cgroup.kill. Once cgroup.kill was written,
	// kernels with the cgroup kill_seq (6.13+, seen here on 6.18) SIGKILL
	// every process later cloned into that cgroup with CLONE_INTO_CGROUP,
	// so such a cgroup (and one from before us) is replaced by a fresh one.
	if v.cgroup == dir && !v.cgroupKilled {
		if fd, err := os.Open(dir); err == nil {
			if err := s.writeLimits(v, dir, false); err != nil {
				fd.Close()
				return nil, "", err
			}
			return fd, dir, nil
		}
	}
	fresh := true
	if err := os.Remove(dir); err != nil && !os.IsNotExist(err) {
		// Still in use (EBUSY): reused with whatever limits it has.
		s.log.Warn("cgroup still in use; reusing it", "cgroup", dir, "err", err)
		fresh = false
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", fmt.Errorf("cgroup %s: %w", dir, err)
	}
	v.cgroupKilled, v.oomLast = false, -1
	if err := s.writeLimits(v, dir, fresh); err != nil {
		return nil, "", err
	}
	fd, err := os.Open(dir)
	if err != nil {
		return nil, "", fmt.Errorf("cgroup %s: %w", dir, err)
	}
	return fd, dir, nil
}

// cgroupLimits is what a service's limits write to its cgroup's controls.
type cgroupLimits struct{ memory, pids, cpu, io string }

func limitsOf(l config.Limits) cgroupLimits {
	c := cgroupLimits{memory: "max", pids: "max", cpu: "100", io: "default 100"} // a new cgroup's
	if l.Memory > 0 {
		c.memory = strconv.FormatInt(int64(l.Memory), 10)
	}
	if l.Pids > 0 {
		c.pids = strconv.FormatInt(l.Pids, 10)
	}
	if l.CPUWeight > 0 {
		c.cpu = strconv.FormatInt(l.CPUWeight, 10)
	}
	if l.IOWeight > 0 {
		c.io = "default " + strconv.FormatInt(l.IOWeight, 10)
	}
	return c
}

// writeLimits writes v's limits to its cgroup: in a fresh cgroup only
// those that differ from its defaults, in a reused one only if they
// changed since they were written (a new config).
func (s *Supervisor) writeLimits(v *service, dir string, fresh bool) error {
	want := limitsOf(v.cfg.Limits)
	if !fresh && v.cgroupLimits == want {
		return nil
	}
	var had cgroupLimits
	if fresh {
		had = limitsOf(config.Limits{})
	}
	for _, w := range []struct{ file, val, had string }{
		{"memory.max", want.memory, had.memory},
		{"pids.max", want.pids, had.pids},
		{"cpu.weight", want.cpu, had.cpu},
		{"io.weight", want.io, had.io},
	} {
		if w.val == w.had {
			continue
		}
		p := filepath.Join(dir, w.file)
		if err := writeControl(p, w.val); err != nil {
			// A controller the kernel lacks is fine unless the user asked for it.
			if os.IsNotExist(err) && !limitSet(w.file, v) {
				continue
			}
			v.cgroupLimits = cgroupLimits{} // unknown: written in full next time
			return fmt.Errorf("cgroup %s: %w", p, err)
		}
	}
	v.cgroupLimits = want
	return nil
}

// writeControl writes a cgroup control file. Without O_CREATE: cgroupfs
// refuses creation with EACCES, which would hide that a controller is
// simply not there (ENOENT).
func writeControl(path, val string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(val); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func limitSet(file string, v *service) bool {
	l := v.cfg.Limits
	switch file {
	case "memory.max":
		return l.Memory > 0
	case "pids.max":
		return l.Pids > 0
	case "cpu.weight":
		return l.CPUWeight > 0
	case "io.weight":
		return l.IOWeight > 0
	}
	return false
}

// memoryCurrent reads the cgroup's memory use, or -1.
func memoryCurrent(dir string) int64 {
	if dir == "" {
		return -1
	}
	b, err := os.ReadFile(filepath.Join(dir, "memory.current"))
	if err != nil {
		return -1
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// EnableControllers turns on the controllers services need in dir's parent
// chain (cgroup v2 only hands a controller to children that their parent
// enabled in cgroup.subtree_control).
func EnableControllers(root, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cgroup %s: %w", dir, err)
	}
	for _, d := range []string{root, dir} {
		avail, err := os.ReadFile(filepath.Join(d, "cgroup.controllers"))
		if err != nil {
			return fmt.Errorf("cgroup %s: %w", d, err)
		}
		var want []string
		for _, c := range strings.Fields(string(avail)) {
			switch c {
			case "memory", "pids", "cpu", "io":
				want = append(want, "+"+c)
			}
		}
		if len(want) == 0 {
			continue
		}
		p := filepath.Join(d, "cgroup.subtree_control")
		if err := os.WriteFile(p, []byte(strings.Join(want, " ")), 0); err != nil {
			return fmt.Errorf("cgroup %s: %w", p, err)
		}
	}
	return nil
}

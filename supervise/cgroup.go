package supervise

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	// A fresh cgroup for every run: once cgroup.kill was written, kernels
	// with the cgroup kill_seq (6.13+, seen here on 6.18) SIGKILL every
	// process later cloned into that cgroup with CLONE_INTO_CGROUP. An
	// empty cgroup is removed (it is, after a drained exit); one still in
	// use fails with EBUSY and is reused.
	if err := os.Remove(dir); err != nil && !os.IsNotExist(err) {
		s.log.Warn("cgroup still in use; reusing it", "cgroup", dir, "err", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", fmt.Errorf("cgroup %s: %w", dir, err)
	}
	lim := v.cfg.Limits
	writes := map[string]string{
		"memory.max": "max", "pids.max": "max", "cpu.weight": "100", "io.weight": "default 100",
	}
	if lim.Memory > 0 {
		writes["memory.max"] = strconv.FormatInt(int64(lim.Memory), 10)
	}
	if lim.Pids > 0 {
		writes["pids.max"] = strconv.FormatInt(lim.Pids, 10)
	}
	if lim.CPUWeight > 0 {
		writes["cpu.weight"] = strconv.FormatInt(lim.CPUWeight, 10)
	}
	if lim.IOWeight > 0 {
		writes["io.weight"] = "default " + strconv.FormatInt(lim.IOWeight, 10)
	}
	for file, val := range writes {
		p := filepath.Join(dir, file)
		if err := writeControl(p, val); err != nil {
			// A controller the kernel lacks is fine unless the user asked for it.
			if os.IsNotExist(err) && !limitSet(file, v) {
				continue
			}
			return nil, "", fmt.Errorf("cgroup %s: %w", p, err)
		}
	}
	fd, err := os.Open(dir)
	if err != nil {
		return nil, "", fmt.Errorf("cgroup %s: %w", dir, err)
	}
	return fd, dir, nil
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

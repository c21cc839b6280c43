package supervise

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// oomKills reads how many processes of a cgroup the kernel's OOM killer
// ended (memory.events' oom_kill); -1 when it cannot tell.
func oomKills(cgroup string) int64 {
	if cgroup == "" {
		return -1
	}
	b, err := os.ReadFile(filepath.Join(cgroup, "memory.events"))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// noteOOM says why a service died when the OOM killer ended a process in
// its cgroup since it started: its memory limit, or the machine's memory.
// The count is kept (oomLast): a start that reuses the emptied cgroup
// starts from it instead of reading it again.
func (s *Supervisor) noteOOM(v *service) {
	if v.cgroup == "" {
		return
	}
	n := oomKills(v.cgroup)
	v.oomLast = n
	if v.killedFor != "" || v.oomBase < 0 {
		return
	}
	if n > v.oomBase {
		why := "out of memory"
		if m := v.cfg.Limits.Memory; m > 0 {
			why += " (memory limit " + strconv.FormatInt(int64(m), 10) + " bytes)"
		}
		v.killedFor = why
	}
}

package cm

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/unit-os/unit/safepath"
	"golang.org/x/sys/unix"
)

// Temporary files are named .NAME.unit-tmp-PID.START-SUFFIX: the writer's
// pid and its start time (in clock ticks since boot, /proc/PID/stat field
// 22), so a later unit can tell a temp file whose writer is gone (killed
// mid-apply) from one being written now, even after the pid was reused.
const tempMark = ".unit-tmp-"

// procTag is this process's PID.START, read once.
var procTag = sync.OnceValue(func() string {
	pid := os.Getpid()
	return fmt.Sprintf("%d.%s", pid, startTime(pid))
})

// startTime is field 22 of /proc/PID/stat, "" if unreadable.
func startTime(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// The command (field 2) may hold spaces and parentheses: count from
	// the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

// tempPrefix is the start of a temp file's name for base in this process.
func tempPrefix(base string) string { return "." + base + tempMark + procTag() + "-" }

// writerGone says whether a temp file's name carries a writer that no
// longer runs. Names in any other form (an older unit's) are not judged.
func writerGone(name string) bool {
	i := strings.LastIndex(name, tempMark)
	if !strings.HasPrefix(name, ".") || i < 0 {
		return false
	}
	tag, _, ok := strings.Cut(name[i+len(tempMark):], "-")
	pidS, start, ok2 := strings.Cut(tag, ".")
	pid, err := strconv.Atoi(pidS)
	if !ok || !ok2 || err != nil || pid <= 0 || start == "" {
		return false
	}
	return startTime(pid) != start
}

// tempSweeper removes, once per directory and process, the temp files of
// writers that are gone.
type tempSweeper struct{ done sync.Map }

// sweep looks at dir the first time it is asked to; it removes regular
// files and symlinks only, never following one, and never a directory.
func (s *tempSweeper) sweep(dir string) (removed int) {
	if _, seen := s.done.LoadOrStore(dir, true); seen {
		return 0
	}
	d, err := safepath.Open(dir)
	if err != nil {
		return 0
	}
	defer d.Close()
	fd, err := openDirAt(d)
	if err != nil {
		return 0
	}
	defer unix.Close(fd)
	names, _ := readDirNames(fd)
	for _, n := range names {
		if !strings.Contains(n, tempMark) || !writerGone(n) {
			continue
		}
		var st unix.Stat_t
		if unix.Fstatat(fd, n, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
			continue
		}
		if t := st.Mode & unix.S_IFMT; t != unix.S_IFREG && t != unix.S_IFLNK {
			continue
		}
		if unix.Unlinkat(fd, n, 0) == nil {
			removed++
		}
	}
	return removed
}

// sweepFor sweeps the directory of path.
func (e *env) sweepFor(path string) {
	if n := e.temps.sweep(filepath.Dir(path)); n > 0 && e.log != nil {
		e.log.Info("cm: removed temporary files of a writer that is gone", "dir", filepath.Dir(path), "files", n)
	}
}

package safepath

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Temporary files are named .NAME.unit-tmp-PID.START-SUFFIX: the writer's
// pid and its start time (in clock ticks since boot, /proc/PID/stat field
// 22), so a later writer can tell a temp file whose writer is gone (killed
// mid-write) from one being written now, even after the pid was reused.
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

// TempPrefix is the start of a temp file's name for base in this process.
func TempPrefix(base string) string { return "." + base + tempMark + procTag() + "-" }

// IsTemp says whether name is one of these temp files, whoever wrote it.
func IsTemp(name string) bool {
	ok, _ := filepath.Match(".*"+tempMark+"*", name)
	return ok
}

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

// Sweep removes from dir the temp files of writers that are gone, and
// returns how many. It removes regular files and symlinks only, never
// following one, and never a directory. A directory it cannot read has
// nothing to sweep.
func Sweep(dir string, opts ...Option) int {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return 0
	}
	d, err := Open(abs, opts...)
	if err != nil {
		return 0
	}
	defer d.Close()
	fd, err := unix.Openat(d.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	f := os.NewFile(uintptr(fd), abs)
	defer f.Close()
	names, _ := f.Readdirnames(-1)
	removed := 0
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

// Sweeper sweeps each directory once per process: a writer that keeps
// writing into the same directories looks at each only the first time.
type Sweeper struct{ done sync.Map }

// Sweep is the package's Sweep, the first time dir is asked for.
func (s *Sweeper) Sweep(dir string, opts ...Option) int {
	if _, seen := s.done.LoadOrStore(dir, true); seen {
		return 0
	}
	return Sweep(dir, opts...)
}

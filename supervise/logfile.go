package supervise

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/unit-os/unit/config"
)

// logFile is a service's persistent log, rotated by size like s6-log:
// lines go to DIR/current; a full current is renamed to DIR/@TIME.s and the
// oldest archives beyond Keep are removed. Every line is timestamped.
type logFile struct {
	mu     sync.Mutex
	cfg    config.LogFiles
	f      *os.File
	size   int64
	failed error // the last write error, reported once
}

const archiveTime = "20060102T150405.000000000Z"

func openLogFile(cfg config.LogFiles) (*logFile, error) {
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("log dir: %w", err)
	}
	l := &logFile{cfg: cfg}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *logFile) open() error {
	f, err := os.OpenFile(filepath.Join(l.cfg.Dir, "current"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("log file: %w", err)
	}
	l.f, l.size = f, st.Size()
	return nil
}

// write appends one timestamped line, rotating first if it would not fit.
// It returns an error only the first time writing starts failing.
func (l *logFile) write(line LogLine) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	b := []byte(line.Time.UTC().Format(time.RFC3339Nano) + " " + line.Text + "\n")
	if l.size > 0 && l.size+int64(len(b)) > int64(l.cfg.MaxSize) {
		if err := l.rotate(line.Time); err != nil {
			return l.fail(err)
		}
	}
	n, err := l.f.Write(b)
	l.size += int64(n)
	if err != nil {
		return l.fail(err)
	}
	l.failed = nil
	return nil
}

func (l *logFile) fail(err error) error {
	if l.failed != nil {
		return nil
	}
	l.failed = err
	return fmt.Errorf("log %s: %w", l.cfg.Dir, err)
}

// rotate archives current and prunes old archives.
func (l *logFile) rotate(now time.Time) error {
	if err := l.f.Close(); err != nil {
		return err
	}
	l.f = nil
	archive := filepath.Join(l.cfg.Dir, "@"+now.UTC().Format(archiveTime)+".s")
	if err := os.Rename(filepath.Join(l.cfg.Dir, "current"), archive); err != nil {
		return err
	}
	if err := l.open(); err != nil {
		return err
	}
	return l.prune()
}

func (l *logFile) prune() error {
	old, err := filepath.Glob(filepath.Join(l.cfg.Dir, "@*.s"))
	if err != nil {
		return err
	}
	sort.Strings(old) // timestamps sort by name
	for len(old) > l.cfg.Keep {
		if err := os.Remove(old[0]); err != nil {
			return err
		}
		old = old[1:]
	}
	return nil
}

func (l *logFile) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

// syncLogFiles opens, reopens or closes persistent logs to match services
// (on the loop, from SetConfig).
func (s *Supervisor) syncLogFiles(services map[string]*config.Service) {
	s.ringsMu.Lock()
	defer s.ringsMu.Unlock()
	for name, l := range s.logFiles {
		if c := services[name]; c == nil || c.Log != l.cfg {
			l.close()
			delete(s.logFiles, name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(services)) {
		c := services[name]
		if c.Log.Dir == "" || s.logFiles[name] != nil {
			continue
		}
		l, err := openLogFile(c.Log)
		if err != nil {
			s.log.Error("service log", "name", name, "err", err)
			continue
		}
		s.logFiles[name] = l
	}
}

// toLogFile writes a line to its service's persistent log, if it has one.
func (s *Supervisor) toLogFile(line LogLine) {
	s.ringsMu.Lock()
	l := s.logFiles[line.Service]
	s.ringsMu.Unlock()
	if l == nil {
		return
	}
	if err := l.write(line); err != nil {
		s.log.Error("service log", "name", line.Service, "err", err)
	}
}

// archives lists a log dir's rotated files, oldest first (for tests, status).
func archives(dir string) []string {
	old, _ := filepath.Glob(filepath.Join(dir, "@*.s"))
	sort.Strings(old)
	for i := range old {
		old[i] = strings.TrimPrefix(old[i], dir+"/")
	}
	return old
}

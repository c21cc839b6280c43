package supervise

import (
	"bytes"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// drainTimeout bounds the wait for a killed cgroup to empty (a process in
// uninterruptible sleep can take long to die); past it, the exit is
// handled anyway.
const drainTimeout = 5 * time.Second

// cgroupPopulated reports whether v's cgroup still has processes.
func (s *Supervisor) cgroupPopulated(v *service) bool { return v.cgroup != "" && populated(v.cgroup) }

func populated(cgroup string) bool {
	b, err := os.ReadFile(filepath.Join(cgroup, "cgroup.events"))
	return err == nil && bytes.Contains(b, []byte("populated 1"))
}

// awaitEmpty runs then on the loop once v's cgroup is empty: the kernel
// reports it by modifying cgroup.events, seen through inotify.
func (s *Supervisor) awaitEmpty(v *service, gen int, then func()) {
	cgroup := v.cgroup // the goroutine must not read loop-owned fields
	events := filepath.Join(cgroup, "cgroup.events")
	done := func() {
		s.post(func() {
			if v.gen == gen && v.draining {
				then()
			}
		})
	}
	w, err := fsnotify.NewWatcher()
	if err == nil {
		err = w.Add(events)
	}
	if err != nil {
		s.log.Warn("cannot watch cgroup; not waiting for it to empty", "name", v.name, "err", err)
		if w != nil {
			w.Close()
		}
		done()
		return
	}
	go func() {
		defer w.Close()
		defer func() {
			if p := recover(); p != nil {
				s.recovered(p)
			}
			done()
		}()
		timeout := time.NewTimer(drainTimeout)
		defer timeout.Stop()
		for populated(cgroup) {
			select {
			case <-w.Events:
			case err := <-w.Errors:
				s.log.Warn("cgroup watch", "cgroup", cgroup, "err", err)
				return
			case <-timeout.C:
				s.log.Warn("cgroup did not empty after SIGKILL", "cgroup", cgroup, "timeout", drainTimeout)
				return
			}
		}
	}()
}

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

// drains is the one inotify watcher of every cgroup being drained, made
// at the first drain; its events come to the loop as messages. Loop-owned.
type drains struct {
	w       *fsnotify.Watcher
	waiting map[string]func() // cgroup.events path -> its check
}

// awaitEmpty runs then on the loop once v's cgroup is empty: the kernel
// reports it by modifying cgroup.events, seen through inotify. then runs
// at once if the cgroup is empty already.
func (s *Supervisor) awaitEmpty(v *service, gen int, then func()) {
	cgroup := v.cgroup
	events := filepath.Join(cgroup, "cgroup.events")
	w, err := s.drainWatcher()
	if err == nil {
		err = w.Add(events)
	}
	if err != nil {
		s.log.Warn("cannot watch cgroup; not waiting for it to empty", "name", v.name, "err", err)
		then()
		return
	}
	var timeout *time.Timer
	finish := func() {
		if s.drains.waiting[events] == nil {
			return // done already
		}
		delete(s.drains.waiting, events)
		_ = w.Remove(events) // fails once the kernel dropped the watch (rmdir)
		timeout.Stop()
		if v.gen == gen && v.draining {
			then()
		}
	}
	s.drains.waiting[events] = func() {
		if !populated(cgroup) {
			finish()
		}
	}
	timeout = time.AfterFunc(drainTimeout, func() {
		s.post(func() {
			if s.drains.waiting[events] != nil {
				s.log.Warn("cgroup did not empty after SIGKILL", "cgroup", cgroup, "timeout", drainTimeout)
				finish()
			}
		})
	})
	// Watched before this read: an emptying after it is an event.
	s.drains.waiting[events]()
}

// drainWatcher is the drains' watcher, made on first use.
func (s *Supervisor) drainWatcher() (*fsnotify.Watcher, error) {
	if s.drains.w != nil {
		return s.drains.w, nil
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	s.drains = drains{w: w, waiting: map[string]func(){}}
	go s.forwardDrains(w)
	return w, nil
}

// forwardDrains hands the watcher's events to the loop until it is closed.
func (s *Supervisor) forwardDrains(w *fsnotify.Watcher) {
	defer func() {
		if p := recover(); p != nil {
			s.recovered(p)
		}
	}()
	for {
		select {
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			s.post(func() {
				if check := s.drains.waiting[ev.Name]; check != nil {
					check()
				}
			})
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			s.log.Warn("cgroup watch", "err", err)
			s.post(func() { // events may be lost (overflow): look at each
				for _, check := range s.drains.waiting {
					check()
				}
			})
		}
	}
}

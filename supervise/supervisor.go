// Package supervise runs services: spawn, readiness, restart with backoff,
// ordered stop, logs. One goroutine (Run) owns all service state; process
// exits, readiness results, timers and commands reach it as messages, so
// nothing polls and nothing races.
package supervise

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"runtime/debug"
	"sort"
	"sync"

	"github.com/unit-os/unit/event"
	"github.com/unit-os/unit/probe"
)

// Supervisor owns the services of one machine.
type Supervisor struct {
	reaper   *Reaper
	emit     func(event.Event)
	log      *slog.Logger
	console  io.Writer
	cgroups  string // cgroup v2 directory for services; "" on a host
	stateDir string
	dirsRoot string            // where dirs' /run, /var/lib, ... are; "" is /
	env      map[string]string // every service's, under its own env (WithEnv)
	logLines int
	backoff  Backoff
	// checks finds a [check.NAME] for health and ready = "check:NAME".
	checks func(name string) (probe.Spec, bool)

	null  *os.File // /dev/null, the services' stdin (devNull)
	inbox chan func()
	done  chan struct{} // closed when Run returns
	// rings outlive service restarts and config reloads; guarded by ringsMu
	// because readers (unit logs) do not go through the loop.
	ringsMu sync.Mutex
	rings   map[string]*ring
	// logFiles are the persistent logs (log.dir), also guarded by ringsMu.
	logFiles map[string]*logFile

	// Loop-owned state: touch only from functions run by Run.
	services   map[string]*service
	graphCache *graph     // see graph.go
	dirty      []*service // to visit at the next reconcile (dirty.go)
	queue      []*service // the pass under way, in requires order
	passing    bool       // a pass is under way; cursor is where
	rerun      bool       // reconcile was called during the pass
	cursor     int
	visits     int // services visited by reconcile, for tests
	shutdown   bool
	waiters    []waiter // Stop, Shutdown and WaitReady callers
	drains     drains   // cgroups being drained (drain.go)
}

// Option configures a Supervisor.
type Option func(*Supervisor)

// WithEvents sets where state changes are reported.
func WithEvents(emit func(event.Event)) Option { return func(s *Supervisor) { s.emit = emit } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Supervisor) { s.log = l } }

// WithConsole echoes every service output line, prefixed by its name, to w
// (the machine console in PID 1 mode).
func WithConsole(w io.Writer) Option { return func(s *Supervisor) { s.console = w } }

// WithCgroups puts each service in its own cgroup v2 under dir.
func WithCgroups(dir string) Option { return func(s *Supervisor) { s.cgroups = dir } }

// WithStateDir sets where runtime files (notify sockets) live.
func WithStateDir(dir string) Option { return func(s *Supervisor) { s.stateDir = dir } }

// WithDirsRoot puts the directories services declare (dirs) under root
// instead of / (tests).
func WithDirsRoot(root string) Option { return func(s *Supervisor) { s.dirsRoot = root } }

// WithEnv gives every service these variables, unless its env or
// env_files set them (the daemon's UNIT_SOCKET and UNIT_STATE, so that
// unit's own helpers and scripts reach the daemon that runs them).
func WithEnv(vars map[string]string) Option {
	return func(s *Supervisor) { s.env = maps.Clone(vars) }
}

// WithLogLines sets how many output lines each service keeps in memory.
func WithLogLines(n int) Option { return func(s *Supervisor) { s.logLines = n } }

// WithBackoff sets the restart backoff policy.
func WithBackoff(b Backoff) Option { return func(s *Supervisor) { s.backoff = b } }

// WithChecks gives health and ready = "check:NAME" their probes: lookup
// is asked at each try, so a reloaded check takes effect at once.
func WithChecks(lookup func(name string) (probe.Spec, bool)) Option {
	return func(s *Supervisor) { s.checks = lookup }
}

// New returns a supervisor; nothing runs until Run.
func New(r *Reaper, opts ...Option) *Supervisor {
	s := &Supervisor{
		reaper:   r,
		emit:     func(event.Event) {},
		log:      slog.Default(),
		stateDir: "/run/unit",
		logLines: 1000,
		backoff:  DefaultBackoff(),
		inbox:    make(chan func(), 1024),
		done:     make(chan struct{}),
		rings:    map[string]*ring{},
		logFiles: map[string]*logFile{},
		services: map[string]*service{},
	}
	for _, o := range opts {
		o(s)
	}
	s.logLines = max(s.logLines, 1) // a zero-size ring would divide by zero
	return s
}

// Run is the supervisor loop; it returns when ctx ends. Call it once.
func (s *Supervisor) Run(ctx context.Context) {
	defer close(s.done)
	defer func() {
		if s.null != nil {
			s.null.Close()
		}
		if s.drains.w != nil {
			s.drains.w.Close()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-s.inbox:
			s.safely(f)
		}
	}
}

// safely runs one message; a bug in handling one service must not take the
// loop (and PID 1) down with it.
func (s *Supervisor) safely(f func()) {
	defer func() {
		if p := recover(); p != nil {
			s.recovered(p)
		}
	}()
	f()
}

func (s *Supervisor) recovered(p any) {
	s.log.Error("supervisor: recovered from panic", "panic", p, "stack", string(debug.Stack()))
}

// errStopped is returned by calls made after Run returned.
var errStopped = errors.New("supervisor is not running")

// post queues f for the loop without waiting for it to run. Once Run has
// returned f is dropped: a late exit must never block the reaper.
func (s *Supervisor) post(f func()) {
	select {
	case s.inbox <- f:
	case <-s.done:
	}
}

// call runs f on the loop and waits for its result. A panic in f becomes an
// error for the caller, who would otherwise wait forever.
func (s *Supervisor) call(ctx context.Context, f func() error) error {
	done := make(chan error, 1)
	msg := func() {
		defer func() {
			if p := recover(); p != nil {
				s.recovered(p)
				done <- fmt.Errorf("internal error: %v", p)
			}
		}()
		done <- f()
	}
	select {
	case s.inbox <- msg:
	case <-s.done:
		return errStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-s.done:
		select {
		case err := <-done:
			return err
		default:
			return errStopped
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// await waits for ch (closed by the loop), the caller's ctx, or the loop's end.
func (s *Supervisor) await(ctx context.Context, ch <-chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-s.done:
		return errStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Supervisor) ringFor(name string) *ring {
	s.ringsMu.Lock()
	defer s.ringsMu.Unlock()
	r := s.rings[name]
	if r == nil {
		r = newRing(s.logLines)
		s.rings[name] = r
	}
	return r
}

func (s *Supervisor) lookup(name string) (*service, error) {
	svc := s.services[serviceName(name)]
	if svc == nil || svc.remove {
		return nil, fmt.Errorf("no service %q", name)
	}
	return svc, nil
}

// Logs returns the last n output lines of a service, or with name "" of
// every service, interleaved by time.
func (s *Supervisor) Logs(name string, n int) ([]LogLine, error) {
	rings, err := s.ringsOf(name)
	if err != nil {
		return nil, err
	}
	if len(rings) == 1 {
		return rings[0].last(n), nil
	}
	var all []LogLine
	for _, r := range rings {
		all = append(all, r.last(n)...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
	if n > 0 && len(all) > n {
		all = all[len(all)-n:]
	}
	return all, nil
}

// Follow streams new output lines of a service (name "" : of every service
// there is now) until cancel is called.
func (s *Supervisor) Follow(name string) (<-chan LogLine, func(), error) {
	rings, err := s.ringsOf(name)
	if err != nil {
		return nil, nil, err
	}
	ch := make(chan LogLine, 256)
	for _, r := range rings {
		r.watch(ch)
	}
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			for _, r := range rings {
				r.unwatch(ch)
			}
			close(ch) // no ring can send to it any more
		})
	}, nil
}

// ringsOf is the log ring of one service, or of all with name "".
func (s *Supervisor) ringsOf(name string) ([]*ring, error) {
	s.ringsMu.Lock()
	defer s.ringsMu.Unlock()
	if name == "" {
		out := make([]*ring, 0, len(s.rings))
		for _, r := range s.rings {
			out = append(out, r)
		}
		return out, nil
	}
	r := s.rings[serviceName(name)]
	if r == nil {
		return nil, fmt.Errorf("no service %q", name)
	}
	return []*ring{r}, nil
}

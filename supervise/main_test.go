package supervise

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/event"
)

// Generous: the machines running this are shared and slow; nothing here
// measures speed, deadlines only bound how long a broken test hangs.
const waitTimeout = 30 * time.Second

var (
	testReaper *Reaper
	self       string // this test binary, re-executed as a helper service
)

// fastBackoff keeps crash loops short. Stable is long enough that a crashing
// `sh -c 'exit 1'` never counts as a stable run, even on a loaded machine.
var fastBackoff = Backoff{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond, Stable: time.Second, Limit: 3}

func TestMain(m *testing.M) {
	switch os.Getenv("UNIT_TEST_HELPER") {
	case "notify":
		helperNotify()
		return
	case "listen":
		helperListen()
		return
	case "watchdog":
		helperWatchdog()
		return
	case "mainpid":
		helperMainPID()
		return
	case "idle":
		fmt.Println("child", os.Getpid())
		time.Sleep(time.Hour)
		return
	}
	// Like `unit run`: orphans reparent to us, and only our Reaper reaps.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "PR_SET_CHILD_SUBREAPER:", err)
		os.Exit(1)
	}
	var err error
	if self, err = os.Executable(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	testReaper = NewReaper(slog.New(slog.NewTextHandler(io.Discard, nil)))
	go testReaper.Run(ctx)
	code := m.Run()
	cancel()
	os.Exit(code)
}

// helperNotify is an sd_notify service: READY=1 on $NOTIFY_SOCKET, then idle.
func helperNotify() {
	time.Sleep(100 * time.Millisecond)
	addr := &net.UnixAddr{Name: os.Getenv("NOTIFY_SOCKET"), Net: "unixgram"}
	c, err := net.DialUnix("unixgram", nil, addr)
	if err != nil {
		fmt.Println("notify:", err)
		os.Exit(2)
	}
	if _, err := c.Write([]byte("STATUS=starting\nREADY=1\n")); err != nil {
		fmt.Println("notify:", err)
		os.Exit(2)
	}
	fmt.Println("notified")
	time.Sleep(time.Hour)
}

// helperListen binds $UNIT_TEST_PORT after a while, then idles.
func helperListen() {
	time.Sleep(200 * time.Millisecond)
	l, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("UNIT_TEST_PORT"))
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(2)
	}
	fmt.Println("listening")
	for {
		c, err := l.Accept()
		if err != nil {
			os.Exit(2)
		}
		c.Close()
	}
}

// recorder keeps every event in order and wakes waiters on each one.
type recorder struct {
	mu      sync.Mutex
	evs     []event.Event
	changed chan struct{} // closed and replaced on every event
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) emit(e event.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, e)
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *recorder) match(i int, name, state string) bool {
	return r.evs[i].Resource == "service:"+name && r.evs[i].State == state
}

// waitFrom returns the index of the first name/state event at or after from.
func (r *recorder) waitFrom(t *testing.T, from int, name, state string) (int, event.Event) {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		r.mu.Lock()
		for i := from; i < len(r.evs); i++ {
			if r.match(i, name, state) {
				e := r.evs[i]
				r.mu.Unlock()
				return i, e
			}
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no %s event for %s after event #%d; events:\n%s", state, name, from, r.dump())
		}
	}
}

func (r *recorder) wait(t *testing.T, name, state string) int {
	t.Helper()
	i, _ := r.waitFrom(t, 0, name, state)
	return i
}

// waitCount waits until there are n name/state events and returns the nth.
func (r *recorder) waitCount(t *testing.T, name, state string, n int) (int, event.Event) {
	t.Helper()
	from := 0
	var e event.Event
	for range n {
		var i int
		i, e = r.waitFrom(t, from, name, state)
		from = i + 1
	}
	return from - 1, e
}

func (r *recorder) index(name, state string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.evs {
		if r.match(i, name, state) {
			return i
		}
	}
	return -1
}

func (r *recorder) count(name, state string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for i := range r.evs {
		if r.match(i, name, state) {
			n++
		}
	}
	return n
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.evs)
}

func (r *recorder) since(from int) []event.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event.Event(nil), r.evs[from:]...)
}

func (r *recorder) dump() string {
	var b strings.Builder
	for i, e := range r.evs {
		fmt.Fprintf(&b, "  #%d %s %s %q %v\n", i, e.Resource, e.State, e.Message, e.Fields)
	}
	return b.String()
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// harness is one running supervisor, shut down when the test ends.
type harness struct {
	t   testing.TB
	s   *Supervisor
	rec *recorder
	ctx context.Context
}

func newHarness(t testing.TB, opts ...Option) *harness {
	t.Helper()
	rec := newRecorder()
	logs := &lockedBuf{}
	base := []Option{
		WithStateDir(t.TempDir()), WithBackoff(fastBackoff), WithEvents(rec.emit),
		WithLogger(slog.New(slog.NewTextHandler(logs, nil))),
	}
	s := New(testReaper, append(base, opts...)...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	ran := make(chan struct{})
	go func() {
		s.Run(ctx)
		close(ran)
	}()
	t.Cleanup(func() {
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		cancel()
		<-ran
		if t.Failed() {
			t.Logf("events:\n%s\nsupervisor log:\n%s", rec.dump(), logs)
		}
	})
	return &harness{t: t, s: s, rec: rec, ctx: ctx}
}

// set applies services the way a validated config would present them.
func (h *harness) set(services map[string]*config.Service) {
	h.t.Helper()
	for name, c := range services {
		c.Name = name
		if c.Restart == "" {
			c.Restart = config.RestartAlways
		}
		if c.Ready == "" {
			c.Ready = "started"
		}
		for i, r := range c.Requires {
			if !strings.HasPrefix(r, "service:") {
				c.Requires[i] = "service:" + r
			}
		}
	}
	if err := h.s.SetConfig(h.ctx, services); err != nil {
		h.t.Fatalf("SetConfig: %v", err)
	}
}

func (h *harness) status(name string) Status {
	h.t.Helper()
	st, err := h.s.Status(h.ctx, name)
	if err != nil || len(st) != 1 {
		h.t.Fatalf("Status(%s) = %v, %v", name, st, err)
	}
	return st[0]
}

// waitLog waits until a line of name's output satisfies ok and returns it.
func (h *harness) waitLog(name string, ok func(string) bool) string {
	h.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		lines, err := h.s.Logs(name, 0)
		if err != nil {
			h.t.Fatalf("Logs(%s): %v", name, err)
		}
		for _, l := range lines {
			if ok(l.Text) {
				return l.Text
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.t.Fatalf("no matching log line from %s", name)
	return ""
}

func sh(script string) []string { return []string{"/bin/sh", "-c", script} }

func disabled() *bool { f := false; return &f }

func texts(lines []LogLine) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l.Text
	}
	return out
}

// eventually polls cond until it holds; for what the kernel does
// asynchronously (a killed process disappearing), where no event exists.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

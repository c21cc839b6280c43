package cm

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/event"
)

// file builds a validated-looking config.File.
func file(path, content string, mode uint32, notify ...string) *config.File {
	return &config.File{Meta: config.Meta{Name: path}, Content: &content, FileMode: mode, Ensure: "present", Edges: config.Edges{Notify: notify}}
}

func absent(path string) *config.File {
	return &config.File{Meta: config.Meta{Name: path}, FileMode: 0o644, Ensure: "absent"}
}

func cfgOf(files ...*config.File) *config.Config {
	c := &config.Config{Services: map[string]*config.Service{}, Files: map[string]*config.File{}}
	for _, f := range files {
		c.Files[f.Name] = f
	}
	return c
}

func quietLog() Option {
	return WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// recorder is a fake supervisor and event sink.
type recorder struct {
	mu       sync.Mutex
	restarts []string
	events   []event.Event
}

func (r *recorder) Restart(_ context.Context, name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.restarts = append(r.restarts, name)
	return nil
}

func (r *recorder) emit(e event.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) takeRestarts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.restarts
	r.restarts = nil
	return out
}

func (r *recorder) hasEvent(resource, state string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.ContainsFunc(r.events, func(e event.Event) bool {
		return e.Resource == resource && e.State == state
	})
}

// count is how many events of resource in state came.
func (r *recorder) count(resource, state string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Resource == resource && e.State == state {
			n++
		}
	}
	return n
}

// counting wraps a resource and counts every Check and Apply.
type counting struct {
	Resource
	n *atomic.Int64
}

func (c counting) Check(ctx context.Context) ([]Delta, error) {
	c.n.Add(1)
	return c.Resource.Check(ctx)
}

func (c counting) Apply(ctx context.Context) ([]Delta, error) {
	c.n.Add(1)
	return c.Resource.Apply(ctx)
}

func (c counting) Same(o Resource) bool {
	if oc, ok := o.(counting); ok {
		o = oc.Resource
	}
	return c.Resource.Same(o)
}

func countCalls(n *atomic.Int64) Option {
	return withWrap(func(r Resource) Resource { return counting{r, n} })
}

// start runs an engine until the test ends.
func start(t *testing.T, opts ...Option) *Engine {
	t.Helper()
	e := New(append([]Option{quietLog()}, opts...)...)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	waitFor(t, "engine running", func() bool { return e.w.Load() != nil })
	return e
}

// waitFor polls cond in the test (the engine itself never polls).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func hasContent(path, want string) func() bool {
	return func() bool {
		b, err := os.ReadFile(path)
		return err == nil && bytes.Equal(b, []byte(want))
	}
}

func hasMode(path string, want uint32) func() bool {
	return func() bool {
		var st syscall.Stat_t
		return syscall.Stat(path, &st) == nil && st.Mode&0o7777 == want
	}
}

func stat(t *testing.T, path string) syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// tempFiles lists leftovers of safepath.WriteFile in dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, ".*.unit-tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustApply(t *testing.T, e *Engine) *Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rep, err := e.Apply(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

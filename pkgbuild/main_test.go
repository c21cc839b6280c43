package pkgbuild

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestMain lets the test binary be the sandbox helper: the builder re-runs
// its own executable as `<exe> pkg sandbox SPEC`, as the unit binary does.
func TestMain(m *testing.M) {
	ServeSandbox(os.Args)
	os.Exit(m.Run())
}

// writeFiles creates files (path → content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// testBuilder is a builder with a fresh store and cache under t's temp dir,
// its progress lines kept in the returned buffer.
func testBuilder(t *testing.T, jobs int) (*Builder, *syncBuffer) {
	t.Helper()
	dir := t.TempDir()
	buf := &syncBuffer{}
	b, err := NewBuilder(Options{Store: filepath.Join(dir, "store"), Cache: filepath.Join(dir, "cache"), Jobs: jobs, Progress: buf, Tick: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return b, buf
}

// buildTimeout only guards against a hang: a real build (configure, a
// perl-modules download) took over 5 minutes on a 2-core machine at load 20,
// and a build's time is never what a test asserts.
const buildTimeout = 20 * time.Minute

func build(t *testing.T, b *Builder, files ...string) map[string]*Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	res, err := b.Build(ctx, files)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	m := map[string]*Result{}
	for _, r := range res {
		m[r.Recipe.Name] = r
	}
	return m
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

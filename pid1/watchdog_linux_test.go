package pid1

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unit-os/unit/api"
)

func TestWatchdogTimeoutFrom(t *testing.T) {
	for _, c := range []struct {
		cmdline string
		want    time.Duration
		bad     bool
	}{
		{"console=ttyS0 panic=-1", watchdogTimeout, false},
		{"console=ttyS0 unit.watchdog=3", 3 * time.Second, false},
		{"unit.watchdog=10s quiet", 10 * time.Second, false},
		{"unit.watchdog=2m", 2 * time.Minute, false},
		{"unit.watchdog=0", watchdogTimeout, true},
		{"unit.watchdog=1500ms", watchdogTimeout, true},
		{"unit.watchdog=soon", watchdogTimeout, true},
		{"xunit.watchdog=3", watchdogTimeout, false},
	} {
		got, err := watchdogTimeoutFrom(c.cmdline)
		if got != c.want || (err != nil) != c.bad {
			t.Errorf("%q: %s, %v; want %s (error: %v)", c.cmdline, got, err, c.want, c.bad)
		}
	}
}

// TestPettingStopsWhenTheLoopHangs serves the real control socket with a
// status handler that answers three times, then hangs like a wedged
// supervisor loop. The petting follows the answers: it goes on while they
// come and stops once they do not, which is what lets the hardware reset
// a hung PID 1.
func TestPettingStopsWhenTheLoopHangs(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "unit.sock")
	l, err := api.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var answers atomic.Int32
	hang := make(chan struct{})
	defer close(hang)
	go api.Serve(ctx, l, func(ctx context.Context, req api.Request, send func(any) error) error {
		if answers.Add(1) > 3 {
			select {
			case <-hang:
			case <-ctx.Done():
			}
			return ctx.Err()
		}
		return send(map[string]string{"ok": "yes"})
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))

	var pets atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		petWhileAlive(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), 200*time.Millisecond,
			func(ctx context.Context, within time.Duration) bool { return pid1Alive(ctx, sock, within) },
			func() error { pets.Add(1); return nil })
	}()
	deadline := time.Now().Add(10 * time.Second)
	for answers.Load() < 6 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if answers.Load() < 6 {
		t.Fatalf("only %d status calls in 10 s", answers.Load())
	}
	// At most one pet per answer (a slow answer counts as none), and none
	// for the three probes into the hang.
	if got := pets.Load(); got < 1 || got > 3 {
		t.Errorf("%d pets for 3 answers then a hang, want 1 to 3", got)
	}
}

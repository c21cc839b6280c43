package api

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// A reply of LargeReply bytes or more, in one line or in many, is
// followed by the heap's return; a small one is not. The hook runs before
// the reply's last line, so the count is known when Call returns.
func TestLargeReplyReturnsMemory(t *testing.T) {
	var calls atomic.Int32
	path := filepath.Join(t.TempDir(), "unit.sock")
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	h := func(ctx context.Context, req Request, send func(any) error) error {
		switch req.Cmd {
		case "big":
			return send(strings.Repeat("x", LargeReply))
		case "lines": // a log backlog: many lines that add up
			for range 100 {
				if err := send(strings.Repeat("y", LargeReply/50)); err != nil {
					return err
				}
			}
		default:
			return send("small")
		}
		return nil
	}
	go func() {
		defer close(done)
		Serve(ctx, l, h, nil, AfterLargeReply(func() { calls.Add(1) }))
	}()
	for _, c := range []struct {
		cmd  string
		want int32
	}{{"small", 0}, {"status", 0}, {"big", 1}, {"small", 1}, {"lines", 2}} {
		if err := Call(ctx, path, Request{Cmd: c.cmd}, func(json.RawMessage) error { return nil }); err != nil {
			t.Fatalf("%s: %v", c.cmd, err)
		}
		if got := calls.Load(); got != c.want {
			t.Errorf("after %s: %d returns, want %d", c.cmd, got, c.want)
		}
	}
}

// A burst of large replies returns the heap once; the next burst again.
func TestMemReturnerCoalesces(t *testing.T) {
	var queued []func()
	freed := 0
	m := &memReturner{schedule: func(f func()) { queued = append(queued, f) }, free: func() { freed++ }}
	m.after()
	m.after()
	m.after()
	if len(queued) != 1 {
		t.Fatalf("a burst of 3 scheduled %d returns", len(queued))
	}
	queued[0]()
	if freed != 1 {
		t.Fatalf("freed %d times", freed)
	}
	m.after()
	if len(queued) != 2 {
		t.Fatalf("the next burst scheduled nothing")
	}
}

package api

import (
	"runtime/debug"
	"sync"
	"time"
)

// LargeReply is the size of a reply (the bytes of its data lines) after
// which Serve hands free heap back to the kernel. Building such a reply
// (`status --json` or `metrics` of a hundred services: 20–60 KB) takes
// several times its size of heap, which the Go runtime otherwise keeps
// for minutes: PID 1's anonymous memory grew from 3.5 to 5–6 MB after a
// few client calls and stayed there. Small replies (one service, a
// start) leave little behind and are not worth a GC.
const LargeReply = 16 << 10

// returnDelay is how long after a large reply the heap is returned: one
// return covers a burst of calls (a script, a scrape of several pages).
const returnDelay = time.Second

// AfterLargeReply replaces what Serve does after a reply of LargeReply
// bytes or more (by default: return free heap to the kernel, once per
// burst). f is called on the connection's goroutine before the reply's
// last line, so it must not block.
func AfterLargeReply(f func()) ServeOption { return func(o *serveOpts) { o.afterLarge = f } }

// memReturner runs free once for a burst of calls to after: the first
// schedules it, later ones before it ran ride along.
type memReturner struct {
	schedule func(func()) // runs its argument later (time.AfterFunc)
	free     func()
	mu       sync.Mutex
	pending  bool
}

func newMemReturner() *memReturner {
	return &memReturner{
		schedule: func(f func()) { time.AfterFunc(returnDelay, f) },
		free:     debug.FreeOSMemory,
	}
}

func (m *memReturner) after() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pending {
		return
	}
	m.pending = true
	m.schedule(func() {
		m.mu.Lock()
		m.pending = false
		m.mu.Unlock()
		m.free()
	})
}

package cm

import (
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/fsnotify/fsnotify"
	"github.com/unit-os/unit/safepath"
)

// collector reads inotify all the time, also while a convergence runs: a
// first apply of 10,000 files makes 40,000 events of its own (create,
// write, chmod, rename of each temp file), and a reader that waited for the
// pass to end let the kernel's queue (fs.inotify.max_queued_events, 16,384)
// overflow. Events on our temp files are dropped as they come (they carry
// nothing: the rename to the managed name does); the rest are folded by
// name until the loop takes them. Memory is bounded: past maxPending names
// the collector gives up on detail and reports an overflow, as the kernel
// would, and the loop re-checks everything.
type collector struct {
	mu       sync.Mutex
	pending  map[string]fsnotify.Op
	order    []string // names in arrival order, for a stable fold
	errs     []error
	overflow bool
	ready    chan struct{} // one token: something is pending
	closed   chan struct{}
	// overflows counts the times events were lost (the kernel's queue or
	// ours): each means one re-check of everything; status shows it.
	overflows atomic.Int64
	// gate, when set (tests), is held while the collector reads: a test
	// takes it to stop reading and make the kernel's queue overflow.
	gate *sync.Mutex
}

// maxPending bounds the names held between two loop turns.
const maxPending = 1 << 16

func newCollector() *collector {
	return &collector{pending: map[string]fsnotify.Op{}, ready: make(chan struct{}, 1), closed: make(chan struct{})}
}

// run reads fw until it closes.
func (c *collector) run(fw *fsnotify.Watcher) {
	defer close(c.closed)
	for {
		if c.gate != nil {
			c.gate.Lock()
			c.gate.Unlock() //nolint:staticcheck // an empty critical section: wait while a test holds it
		}
		select {
		case ev, ok := <-fw.Events:
			if !ok {
				return
			}
			c.add(ev)
		case err, ok := <-fw.Errors:
			if !ok {
				return
			}
			c.addErr(err)
		}
	}
}

func (c *collector) add(ev fsnotify.Event) {
	if safepath.IsTemp(filepath.Base(ev.Name)) {
		return
	}
	c.mu.Lock()
	switch op, seen := c.pending[ev.Name]; {
	case seen:
		c.pending[ev.Name] = op | ev.Op
	case len(c.pending) >= maxPending:
		c.lose()
	default:
		c.pending[ev.Name] = ev.Op
		c.order = append(c.order, ev.Name)
	}
	c.mu.Unlock()
	c.signal()
}

func (c *collector) addErr(err error) {
	c.mu.Lock()
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		c.lose()
	} else {
		c.errs = append(c.errs, err)
	}
	c.mu.Unlock()
	c.signal()
}

// lose drops the detail held: everything will be re-checked. c.mu held.
func (c *collector) lose() {
	if !c.overflow {
		c.overflows.Add(1)
	}
	c.overflow = true
	c.reset()
}

func (c *collector) signal() {
	select {
	case c.ready <- struct{}{}:
	default:
	}
}

// take hands the loop what is pending: the events folded by name in
// arrival order, errors, and whether events were lost.
func (c *collector) take() (evs []fsnotify.Event, errs []error, overflow bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	evs = make([]fsnotify.Event, 0, len(c.order))
	for _, name := range c.order {
		evs = append(evs, fsnotify.Event{Name: name, Op: c.pending[name]})
	}
	errs, overflow = c.errs, c.overflow
	c.reset()
	c.errs, c.overflow = nil, false
	return evs, errs, overflow
}

// reset empties the fold; after a burst (a first apply's echo) it lets the
// big map go rather than keep its buckets. c.mu held.
func (c *collector) reset() {
	if len(c.pending) > 1024 {
		c.pending, c.order = map[string]fsnotify.Op{}, nil
		return
	}
	clear(c.pending)
	c.order = c.order[:0]
}

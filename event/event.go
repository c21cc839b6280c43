// Package event is the one record type that every room emits: a state change
// of a service, a repair of a file, a config reload. The control socket
// streams them (`unit events`) and the console prints them at boot.
package event

import (
	"sync"
	"time"
)

// Event is one state change.
type Event struct {
	Time     time.Time `json:"time"`
	Resource string    `json:"resource"` // e.g. "service:web", "file:/etc/motd", "config"
	State    string    `json:"state"`    // e.g. "running", "exited", "repaired", "changed", "error"
	Message  string    `json:"message,omitempty"`
	Fields   Fields    `json:"fields,omitempty"`
}

// Fields carries structured detail (pid, exit code, old and new values).
type Fields map[string]any

// Bus fans events out to subscribers. A slow subscriber loses events rather
// than stalling the emitter: PID 1 must never block on a reader.
type Bus struct {
	mu   sync.Mutex
	subs map[chan Event]struct{}
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{subs: map[chan Event]struct{}{}} }

// Emit stamps e (if unstamped) and sends it to every subscriber without blocking.
func (b *Bus) Emit(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

// Subscribe returns a channel of events and a function that ends the subscription.
func (b *Bus) Subscribe(buffer int) (<-chan Event, func()) {
	ch := make(chan Event, buffer)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[ch]; ok {
			delete(b.subs, ch)
			close(ch)
		}
	}
}

package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/fleet"
)

// Reporter publishes one node's status on change.
type Reporter struct {
	KV     jetstream.KeyValue // fleet.StatusBucket
	Node   string
	Facts  map[string]string
	Socket string
	Log    *slog.Logger

	mu     sync.Mutex
	layers map[string]uint64
	poke   chan struct{}
	last   []byte // the last status published, without its time
}

// Applied records a layer the agent wrote or removed (Agent.Applied).
func (r *Reporter) Applied(key string, revision uint64, removed bool) {
	r.mu.Lock()
	if r.layers == nil {
		r.layers = map[string]uint64{}
	}
	if removed {
		delete(r.layers, key)
	} else {
		r.layers[key] = revision
	}
	r.mu.Unlock()
	r.Poke()
}

// Poke asks for the status to be looked at again (coalesced: a burst of
// events is one look).
func (r *Reporter) Poke() {
	r.init()
	select {
	case r.poke <- struct{}{}:
	default:
	}
}

func (r *Reporter) init() {
	r.mu.Lock()
	if r.poke == nil {
		r.poke = make(chan struct{}, 1)
	}
	r.mu.Unlock()
}

// Run publishes the status at start and whenever unit says something
// happened (its event stream) or a layer was applied, until ctx ends.
// If unit stops answering, the node says so (UNKNOWN) and the event
// stream is asked for again with a growing pause.
func (r *Reporter) Run(ctx context.Context) {
	if r.Log == nil {
		r.Log = slog.Default()
	}
	r.init()
	go r.followEvents(ctx)
	r.Poke()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.poke:
			r.publish(ctx)
		}
	}
}

// followEvents pokes on every event of unit's.
func (r *Reporter) followEvents(ctx context.Context) {
	pause := time.Second
	for ctx.Err() == nil {
		err := api.Call(ctx, r.Socket, api.Request{Cmd: "events"}, func(json.RawMessage) error {
			pause = time.Second
			r.Poke()
			return nil
		})
		if ctx.Err() != nil {
			return
		}
		r.Log.Warn("fleet: unit's events ended", "err", err, "again in", pause)
		r.Poke() // unit may be gone: say so
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, retryMax)
	}
}

// Status is the node's status now.
func (r *Reporter) Status(ctx context.Context) fleet.NodeStatus {
	ns := fleet.NodeStatus{Node: r.Node, Facts: r.Facts}
	r.mu.Lock()
	ns.Layers = maps.Clone(r.layers)
	r.mu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := status(cctx, r.Socket)
	if err != nil {
		ns.State, ns.Items = api.Unknown, []api.HealthItem{{Name: "unit", State: api.Unknown, Detail: "does not answer: " + err.Error()}}
		return ns
	}
	items := st.Health()
	ns.State, ns.Services, ns.Release = api.Worst(items), len(st.Services), st.Release
	for _, it := range items {
		if it.State != api.OK {
			ns.Items = append(ns.Items, it)
		}
	}
	return ns
}

// publish puts the status if it changed.
func (r *Reporter) publish(ctx context.Context) {
	ns := r.Status(ctx)
	key, _ := json.Marshal(ns) // Time is zero here: the comparison ignores it
	if bytes.Equal(key, r.last) {
		return
	}
	ns.Time = time.Now().UTC()
	b, _ := json.Marshal(ns)
	if _, err := r.KV.Put(ctx, fleet.StatusKey(r.Node), b); err != nil {
		if ctx.Err() == nil {
			r.Log.Error("fleet: publish status", "err", err)
		}
		return
	}
	r.last = key
}

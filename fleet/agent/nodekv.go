package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/fleet"
)

// A node's view of a KV bucket without the bucket's stream info:
// jetstream's KeyValue asks for it ($JS.API.STREAM.INFO), and whoever
// may ask it may add a subjects filter and list every key of the bucket
// (every node id and group of the fleet). A node needs none of it: it
// watches its own keys (one ordered consumer per key, the same one
// jetstream's watch makes, bound to the stream by name) and puts its own
// status (a publish to the key's subject). So its permissions name no
// STREAM.INFO of either bucket, and this is how it gets by.

// NodeKV is bucket as a node reaches it: Watch of one key (no options),
// Put, Bucket. Anything else of jetstream.KeyValue is not a node's to
// do and panics.
func NodeKV(nc *nats.Conn, bucket string) (jetstream.KeyValue, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	push, err := nc.JetStream()
	if err != nil {
		return nil, err
	}
	return &nodeKV{bucket: bucket, js: js, push: push}, nil
}

type nodeKV struct {
	jetstream.KeyValue // nil: a node does nothing else
	bucket             string
	js                 jetstream.JetStream
	push               nats.JetStreamContext
}

func (kv *nodeKV) Bucket() string { return kv.bucket }

func (kv *nodeKV) pre() string { return "$KV." + kv.bucket + "." }

// Put publishes value to key and returns its revision.
func (kv *nodeKV) Put(ctx context.Context, key string, value []byte) (uint64, error) {
	ack, err := kv.js.Publish(ctx, kv.pre()+key, value)
	if err != nil {
		return 0, err
	}
	return ack.Sequence, nil
}

// Watch sends key's current value (if any), a nil entry, then each
// change, as jetstream's watch does.
func (kv *nodeKV) Watch(ctx context.Context, key string, opts ...jetstream.WatchOpt) (jetstream.KeyWatcher, error) {
	return kv.WatchFiltered(ctx, []string{key}, opts...)
}

// WatchFiltered watches keys (one consumer, its filters in its config).
func (kv *nodeKV) WatchFiltered(ctx context.Context, keys []string, opts ...jetstream.WatchOpt) (jetstream.KeyWatcher, error) {
	if len(opts) > 0 {
		return nil, errors.New("a node's watch takes no options")
	}
	if len(keys) == 0 {
		return nil, errors.New("a node watches named keys")
	}
	subjects := make([]string, len(keys))
	for i, k := range keys {
		subjects[i] = kv.pre() + k
	}
	w := &nodeWatcher{updates: make(chan jetstream.KeyValueEntry, 256)}
	// The lock keeps the first deliveries from racing the initial count.
	w.mu.Lock()
	defer w.mu.Unlock()
	sopts := []nats.SubOpt{nats.BindStream(fleet.KVStream(kv.bucket)), nats.OrderedConsumer(), nats.DeliverLastPerSubject(), nats.Context(ctx)}
	subject := subjects[0]
	if len(subjects) > 1 {
		subject = ""
		sopts = append(sopts, nats.ConsumerFilterSubjects(subjects...))
	}
	sub, err := kv.push.Subscribe(subject, func(m *nats.Msg) { w.deliver(kv, m) }, sopts...)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", keys, err)
	}
	sub.SetClosedHandler(func(string) {
		w.mu.Lock()
		defer w.mu.Unlock()
		close(w.updates)
	})
	if n, err := sub.InitialConsumerPending(); err == nil {
		if n == 0 {
			w.initDone = true
			w.updates <- nil
		} else {
			w.initPending = n
		}
	}
	w.sub = sub
	return w, nil
}

type nodeWatcher struct {
	mu          sync.Mutex
	updates     chan jetstream.KeyValueEntry
	sub         *nats.Subscription
	initDone    bool
	initPending uint64
	received    uint64
}

func (w *nodeWatcher) Updates() <-chan jetstream.KeyValueEntry { return w.updates }
func (w *nodeWatcher) Stop() error                             { return w.sub.Unsubscribe() }

// deliver turns one of the consumer's messages into an entry.
func (w *nodeWatcher) deliver(kv *nodeKV, m *nats.Msg) {
	md, err := m.Metadata()
	if err != nil || len(m.Subject) <= len(kv.pre()) {
		return
	}
	op := jetstream.KeyValuePut
	switch m.Header.Get("KV-Operation") {
	case "DEL":
		op = jetstream.KeyValueDelete
	case "PURGE":
		op = jetstream.KeyValuePurge
	case "":
		switch m.Header.Get(jetstream.MarkerReasonHeader) {
		case "MaxAge", "Purge":
			op = jetstream.KeyValuePurge
		case "Remove":
			op = jetstream.KeyValueDelete
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.updates <- &nodeEntry{bucket: kv.bucket, key: m.Subject[len(kv.pre()):], value: m.Data,
		revision: md.Sequence.Stream, created: md.Timestamp, delta: md.NumPending, op: op}
	if !w.initDone {
		w.received++
		if w.received >= w.initPending || md.NumPending == 0 {
			w.initDone = true
			w.updates <- nil
		}
	}
}

type nodeEntry struct {
	bucket, key string
	value       []byte
	revision    uint64
	created     time.Time
	delta       uint64
	op          jetstream.KeyValueOp
}

func (e *nodeEntry) Bucket() string                  { return e.bucket }
func (e *nodeEntry) Key() string                     { return e.key }
func (e *nodeEntry) Value() []byte                   { return e.value }
func (e *nodeEntry) Revision() uint64                { return e.revision }
func (e *nodeEntry) Created() time.Time              { return e.created }
func (e *nodeEntry) Delta() uint64                   { return e.delta }
func (e *nodeEntry) Operation() jetstream.KeyValueOp { return e.op }

package pid1

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unit-os/unit/api"
)

// frames is the port's host side: each frame the relay writes.
type frames chan api.Frame

func (f frames) Write(b []byte) (int, error) {
	var fr api.Frame
	if err := json.Unmarshal(b, &fr); err != nil {
		return 0, err
	}
	f <- fr
	return len(b), nil
}

// next is the reply line of the next frame.
func (f frames) next(t *testing.T) string {
	t.Helper()
	select {
	case fr := <-f:
		return string(fr.R)
	case <-time.After(time.Minute): // a bound for a broken relay, not a timing
		t.Fatal("no frame from the relay")
		return ""
	}
}

// TestRelayBounds: the machine port's relay takes a request the control
// socket takes (exactly api.MaxRequest bytes) and refuses one byte more
// itself; a refusal of the socket's (too many connections) reaches the
// host as the socket's line.
func TestRelayBounds(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "unit.sock")
	serve := func(opts ...api.ServeOption) context.CancelFunc {
		l, err := api.Listen(socket)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			api.Serve(ctx, l, func(ctx context.Context, req api.Request, send func(any) error) error {
				return send(len(req.Name))
			}, nil, opts...)
		}()
		return func() { cancel(); <-done }
	}
	stop := serve()
	out := make(frames, 16)
	r := &relay{ctx: context.Background(), log: slog.New(slog.DiscardHandler), socket: socket, out: out}
	req := func(n int) []byte {
		head, tail := `{"cmd":"status","name":"`, `"}`
		return []byte(head + strings.Repeat("a", n-len(head)-len(tail)) + tail)
	}
	r.take(api.Frame{S: 1, Req: req(api.MaxRequest)})
	if got, want := out.next(t), fmt.Sprintf(`{"data":%d}`, api.MaxRequest-len(`{"cmd":"status","name":""}`)); got != want {
		t.Errorf("a request of MaxRequest bytes: %s, want %s", got, want)
	}
	if got := out.next(t); got != `{"done":true}` {
		t.Errorf("then %s", got)
	}
	r.take(api.Frame{S: 2, Req: req(api.MaxRequest + 1)})
	if got := out.next(t); !strings.Contains(got, `"machine: request too large (65537 bytes, the control socket takes 65536)"`) {
		t.Errorf("a request of MaxRequest+1 bytes: %s", got)
	}
	stop()

	stop = serve(api.MaxConns(1, 1, 0)) // root may hold none: every request is refused
	defer stop()
	r.take(api.Frame{S: 3, Req: req(api.MaxRequest)})
	if got := out.next(t); got != `{"error":"too many connections: root holds 0, the limit"}` {
		t.Errorf("refused by the socket: %s", got)
	}
	r.take(api.Frame{S: 3, End: true})
}

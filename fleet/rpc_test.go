package fleet

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/supervise"
)

// fakeUnit answers a node's control socket: status with one service named
// after the node.
func fakeUnit(t *testing.T, node string) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "unit.sock")
	l, err := api.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go api.Serve(ctx, l, func(ctx context.Context, req api.Request, send func(any) error) error {
		if req.Cmd == "status" {
			return send(api.StatusReply{Services: []supervise.Status{{Name: "svc-" + node, State: "running"}}})
		}
		return nil
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return sock
}

// TestFanOut: a request reaches the nodes whose facts match, each answers
// through its own control socket, the wait ends a window after the last
// reply (not at the maximum), and a command that changes a node is
// refused by every node.
func TestFanOut(t *testing.T) {
	s, _ := embedded(t)
	ctx := context.Background()
	for _, n := range []struct{ node, role, dc string }{{"web-1", "web", "ams"}, {"web-2", "web", "fra"}, {"db-1", "db", "ams"}} {
		nc, err := nats.Connect(s.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		r := &Responder{NC: nc, Node: n.node, Facts: map[string]string{"role": n.role, "dc": n.dc}, Socket: fakeUnit(t, n.node)}
		rctx, cancel := context.WithCancel(ctx)
		t.Cleanup(cancel)
		go r.Serve(rctx)
	}
	client, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if err := client.Flush(); err != nil {
		t.Fatal(err)
	}
	// The responders subscribed asynchronously: ask until all three
	// answer the unfiltered request (the subscription, not the answer, is
	// what is waited for).
	for i := 0; ; i++ {
		res, err := Ask(ctx, client, Request{Cmd: "status"}, 200*time.Millisecond, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Replies) == 3 {
			break
		}
		if i == 50 {
			t.Fatalf("only %d of 3 nodes answer", len(res.Replies))
		}
	}
	res, err := Ask(ctx, client, Request{Cmd: "status", Where: map[string]string{"role": "web"}}, 300*time.Millisecond, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var nodes []string
	for _, r := range res.Replies {
		nodes = append(nodes, r.Node)
		var st api.StatusReply
		if r.Error != "" || len(r.Data) != 1 || json.Unmarshal(r.Data[0], &st) != nil || st.Services[0].Name != "svc-"+r.Node {
			t.Errorf("%s answered %+v", r.Node, r)
		}
	}
	if strings.Join(nodes, " ") != "web-1 web-2" {
		t.Errorf("role=web reached %q", nodes)
	}
	if res.Took >= 30*time.Second {
		t.Errorf("the wait took %s: the window did not slide", res.Took)
	}
	res, _ = Ask(ctx, client, Request{Cmd: "status", Where: map[string]string{"role": "web", "dc": "ams"}}, 300*time.Millisecond, time.Minute)
	if len(res.Replies) != 1 || res.Replies[0].Node != "web-1" {
		t.Errorf("role=web dc=ams: %+v", res.Replies)
	}
	res, _ = Ask(ctx, client, Request{Cmd: "restart"}, 300*time.Millisecond, time.Minute)
	if len(res.Replies) != 3 {
		t.Fatalf("restart: %d replies", len(res.Replies))
	}
	for _, r := range res.Replies {
		if !strings.Contains(r.Error, "is not taken from the fleet yet") || len(r.Data) != 0 {
			t.Errorf("%s: restart not refused: %+v", r.Node, r)
		}
	}
}

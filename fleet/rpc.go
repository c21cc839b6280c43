package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/unit-os/unit/api"
)

// readOnly are the commands a fan-out may carry until requests are signed
// and nodes check who asks (docs/fleet.md): nothing that changes a node.
var readOnly = map[string]bool{"status": true, "health": true, "checks": true, "metrics": true}

// Request is one fan-out: the command for every node whose facts match
// Where (all of them; empty matches every node).
type Request struct {
	Where map[string]string `json:"where,omitempty"`
	Cmd   string            `json:"cmd"`
}

// Reply is one node's answer.
type Reply struct {
	Node  string            `json:"node"`
	Facts map[string]string `json:"facts,omitempty"`
	Data  []json.RawMessage `json:"data,omitempty"`
	Error string            `json:"error,omitempty"`
}

// Matches says whether facts satisfy every condition of where.
func Matches(facts, where map[string]string) bool {
	for k, v := range where {
		if facts[k] != v {
			return false
		}
	}
	return true
}

// Responder answers fan-out requests for one node through its control
// socket.
type Responder struct {
	NC     *nats.Conn
	Node   string
	Facts  map[string]string // "node" is added
	Socket string
}

// Serve answers until ctx ends.
func (r *Responder) Serve(ctx context.Context) error {
	facts := map[string]string{"node": r.Node}
	for k, v := range r.Facts {
		facts[k] = v
	}
	sub, err := r.NC.Subscribe(RPCSubject, func(m *nats.Msg) {
		var req Request
		if json.Unmarshal(m.Data, &req) != nil || !Matches(facts, req.Where) || m.Reply == "" {
			return
		}
		rep := Reply{Node: r.Node, Facts: facts}
		if !readOnly[req.Cmd] {
			rep.Error = fmt.Sprintf("%q is not taken from the fleet yet (read-only commands only: status, health, checks, metrics)", req.Cmd)
		} else {
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := api.Call(cctx, r.Socket, api.Request{Cmd: req.Cmd}, func(b json.RawMessage) error {
				rep.Data = append(rep.Data, append(json.RawMessage(nil), b...))
				return nil
			})
			if err == nil && cctx.Err() != nil {
				err = errors.New("the node's unit did not answer in time")
			}
			cancel()
			if err != nil {
				rep.Error = err.Error()
			}
		}
		b, _ := json.Marshal(rep)
		_ = m.Respond(b)
	})
	if err != nil {
		return err
	}
	<-ctx.Done()
	return sub.Unsubscribe()
}

// Result is a fan-out's answers.
type Result struct {
	Replies []Reply
	Took    time.Duration
}

// Ask sends req to every node and gathers the replies: the wait ends
// `window` after the last reply came (a sliding window: a fleet that
// answers fast is not kept waiting for a fixed time), or at most at max.
func Ask(ctx context.Context, nc *nats.Conn, req Request, window, max time.Duration) (*Result, error) {
	start := time.Now()
	inbox := nc.NewRespInbox()
	ch := make(chan *nats.Msg, 1024)
	sub, err := nc.ChanSubscribe(inbox, ch)
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe()
	b, _ := json.Marshal(req)
	if err := nc.PublishRequest(RPCSubject, inbox, b); err != nil {
		return nil, err
	}
	res := &Result{}
	deadline := time.NewTimer(max)
	defer deadline.Stop()
	quiet := time.NewTimer(window)
	defer quiet.Stop()
	for {
		select {
		case m := <-ch:
			var r Reply
			if json.Unmarshal(m.Data, &r) == nil {
				res.Replies = append(res.Replies, r)
			}
			quiet.Reset(window)
		case <-quiet.C:
			res.Took = time.Since(start)
			sortReplies(res.Replies)
			return res, nil
		case <-deadline.C:
			res.Took = time.Since(start)
			sortReplies(res.Replies)
			return res, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func sortReplies(rs []Reply) {
	sort.Slice(rs, func(i, j int) bool { return rs[i].Node < rs[j].Node })
}

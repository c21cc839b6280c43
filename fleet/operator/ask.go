// Package operator is the fleet from an operator's machine (unit-fleet
// run, ls, check, update, put...): connecting with an operator's creds,
// fan-out requests and their replies and their tally, the aggregated
// check, layers checked before they are put, update bundles and content
// put by hash.
package operator

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/unit-os/unit/fleet"
)

// Result is a fan-out's answers.
type Result struct {
	Replies []fleet.Reply `json:"replies"`
	Took    time.Duration `json:"took"`
	// Unproven counts the replies left out because they did not prove
	// to be from the node they name (VerifyReply): a node answering in
	// another's name, or one without credentials.
	Unproven int `json:"unproven,omitempty"`
}

// Ask sends req to every node and gathers the replies. The wait ends as
// soon as every expected node answered (expected: the nodes whose last
// status matches the filter); while one of them has not, at max (a slow
// command, a silent node); with none expected, or all in, `window` after
// the last reply (a sliding window: a fleet that answers fast is not kept
// waiting for a fixed time, and a node that joined since its status was
// read is still heard). progress, if set, is called after each reply.
// A signed request counts only replies signed by the node they name, a
// node of the asker's own account (VerifyReply); an unsigned one (a
// development broker without authentication) takes what comes.
func Ask(ctx context.Context, nc *nats.Conn, req fleet.Request, window, max time.Duration, expected []string, progress func(n int)) (*Result, error) {
	start := time.Now()
	inbox := nc.NewRespInbox()
	ch := make(chan *nats.Msg, 1024)
	sub, err := nc.ChanSubscribe(inbox, ch)
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe()
	account := ""
	if req.JWT != "" {
		if account, err = fleet.JWTAccount(req.JWT); err != nil {
			return nil, fmt.Errorf("the request's JWT: %w", err)
		}
	}
	b, _ := json.Marshal(req)
	if err := nc.PublishRequest(fleet.RPCSubject, inbox, b); err != nil {
		return nil, err
	}
	res := &Result{}
	deadline := time.NewTimer(max)
	defer deadline.Stop()
	quiet := time.NewTimer(window)
	defer quiet.Stop()
	seen := map[string]bool{}
	missing := map[string]bool{}
	for _, n := range expected {
		missing[n] = true
	}
	finish := func() (*Result, error) {
		res.Took = time.Since(start)
		sort.Slice(res.Replies, func(i, j int) bool { return res.Replies[i].Node < res.Replies[j].Node })
		return res, nil
	}
	for {
		select {
		case m := <-ch:
			var r fleet.Reply
			if json.Unmarshal(m.Data, &r) != nil || seen[r.Node] {
				continue
			}
			if account != "" {
				if fleet.VerifyReply(r, req.ID, account, time.Now()) != nil {
					res.Unproven++
					continue
				}
				// Proven: the signature's work is done.
				r.Req, r.JWT, r.Sig = "", "", ""
			}
			seen[r.Node] = true
			res.Replies = append(res.Replies, r)
			if progress != nil {
				progress(len(res.Replies))
			}
			if len(missing) > 0 {
				delete(missing, r.Node)
				if len(missing) == 0 {
					return finish()
				}
			}
			quiet.Reset(window)
		case <-quiet.C:
			if len(missing) == 0 {
				return finish()
			}
		case <-deadline.C:
			return finish()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/fleet"
)

// maxReply bounds the data of one reply (a NATS message's default limit
// is 1 MiB; logs are cut rather than lost).
const maxReply = 512 << 10

// Responder answers fan-out requests for one node through its control
// socket.
type Responder struct {
	NC     *nats.Conn
	Node   string
	Facts  map[string]string // "node" is added
	Socket string
	// Verifier checks signed requests; nil (a broker without
	// authentication, for development) takes only unsigned read-only
	// requests.
	Verifier *fleet.Verifier
	// Signer, the node's own credentials, signs each reply: an asker
	// counts only replies signed by the node they name. nil signs none
	// (a development broker without authentication).
	Signer *fleet.Signer
	// Resource applies an ad-hoc resource once (cmd resource); nil
	// refuses them.
	Resource func(ctx context.Context, spec string, dryRun bool) (string, error)
	// Fetch brings content by hash to a local path (cmd update); nil
	// refuses updates.
	Fetch func(ctx context.Context, name string) (string, error)
}

// Serve answers until ctx ends.
func (r *Responder) Serve(ctx context.Context) error {
	facts := map[string]string{}
	for k, v := range r.Facts {
		facts[k] = v
	}
	facts["node"] = r.Node
	sub, err := r.NC.Subscribe(fleet.RPCSubject, func(m *nats.Msg) {
		var req fleet.Request
		if len(m.Data) > 64<<10 || json.Unmarshal(m.Data, &req) != nil || !fleet.Matches(facts, req.Where) || m.Reply == "" {
			return
		}
		rep := fleet.Reply{Node: r.Node, Facts: facts}
		if err := r.allowed(req); err != nil {
			rep.Error = err.Error()
		} else if err := r.do(ctx, req, &rep); err != nil {
			rep.Error = err.Error()
		}
		b, err := r.encode(rep, req.ID)
		if err == nil && len(b) > maxReply {
			rep.Data, rep.Error = nil, fmt.Sprintf("the answer is %d bytes; at most %d go back (ask for fewer lines)", len(b), maxReply)
			b, err = r.encode(rep, req.ID)
		}
		if err != nil {
			return // unsigned, it would not be counted
		}
		_ = m.Respond(b)
	})
	if err != nil {
		return err
	}
	<-ctx.Done()
	return sub.Unsubscribe()
}

// encode signs rep, the answer to the request with id reqID, if the node
// has credentials, and marshals it.
func (r *Responder) encode(rep fleet.Reply, reqID string) ([]byte, error) {
	if r.Signer != nil {
		if err := r.Signer.SignReply(&rep, reqID); err != nil {
			return nil, err
		}
	}
	return json.Marshal(rep)
}

// What each role may ask. A reader looks; an admin changes things.
var (
	readCmds  = map[string]bool{"ping": true, "status": true, "health": true, "checks": true, "metrics": true, "logs": true}
	adminCmds = map[string]bool{"start": true, "stop": true, "restart": true, "apply": true, "resource": true, "update": true}
	// unsignedCmds are what a node without a Verifier answers.
	unsignedCmds = map[string]bool{"ping": true, "status": true, "health": true, "checks": true, "metrics": true}
)

// allowed says why req may not be done here, or nil.
func (r *Responder) allowed(req fleet.Request) error {
	if !readCmds[req.Cmd] && !adminCmds[req.Cmd] {
		return fmt.Errorf("unknown command %q", req.Cmd)
	}
	if r.Verifier == nil {
		if req.JWT == "" && unsignedCmds[req.Cmd] {
			return nil
		}
		return fmt.Errorf("%q refused: this node takes only unsigned read-only requests (ping, status, health, checks, metrics) until it has fleet credentials", req.Cmd)
	}
	role, err := r.Verifier.Verify(req, time.Now())
	if err != nil {
		return fmt.Errorf("%q refused: %w", req.Cmd, err)
	}
	changes := adminCmds[req.Cmd] && !(req.Cmd == "apply" && req.DryRun)
	if changes && role != fleet.RoleAdmin {
		return fmt.Errorf("%q refused: a %s may not change a node (apply --dry-run is a look)", req.Cmd, role)
	}
	return nil
}

// do runs one allowed request.
func (r *Responder) do(ctx context.Context, req fleet.Request, rep *fleet.Reply) error {
	if req.Cmd == "ping" {
		return nil
	}
	if req.Cmd == "resource" {
		if r.Resource == nil {
			return errors.New("this node takes no ad-hoc resources")
		}
		out, err := r.Resource(ctx, req.Resource, req.DryRun)
		if out != "" {
			b, _ := json.Marshal(out)
			rep.Data = append(rep.Data, b)
		}
		return err
	}
	if req.Cmd == "update" {
		return r.update(ctx, req, rep)
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if req.Cmd == "health" {
		st, err := status(cctx, r.Socket)
		if err != nil {
			return err
		}
		items := st.Health()
		b, _ := json.Marshal(struct {
			State int              `json:"state"`
			Items []api.HealthItem `json:"items"`
		}{api.Worst(items), items})
		rep.Data = append(rep.Data, b)
		return nil
	}
	areq := api.Request{Cmd: req.Cmd, Name: req.Name, DryRun: req.DryRun}
	if req.Cmd == "logs" {
		areq.Lines = min(max(req.Lines, 1), 1000)
		if req.Lines == 0 {
			areq.Lines = 20
		}
	}
	size := 0
	err := api.Call(cctx, r.Socket, areq, func(b json.RawMessage) error {
		if size += len(b); size > maxReply {
			return errors.New("the answer is too long; ask for less")
		}
		rep.Data = append(rep.Data, append(json.RawMessage(nil), b...))
		return nil
	})
	if err == nil && cctx.Err() != nil {
		err = errors.New("the node's unit did not answer in time")
	}
	return err
}

// update fetches the bundle by its hash, checks it, and hands it to
// unit update with the pin: the bundle is verified twice (its bytes
// against its name here, its manifest against the pin in PID 1).
func (r *Responder) update(ctx context.Context, req fleet.Request, rep *fleet.Reply) error {
	if r.Fetch == nil {
		return errors.New("this node takes no updates from the fleet")
	}
	if req.SHA256 == "" {
		return errors.New("an update needs the bundle's id (the pin)")
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	path, err := r.Fetch(cctx, req.Content)
	if err != nil {
		return err
	}
	err = api.Call(cctx, r.Socket, api.Request{Cmd: "update", Source: path, SHA256: req.SHA256, NoReboot: req.NoReboot}, func(b json.RawMessage) error {
		rep.Data = append(rep.Data, append(json.RawMessage(nil), b...))
		return nil
	})
	if err == nil && cctx.Err() != nil {
		err = errors.New("the update did not end in time")
	}
	return err
}

// status asks unit for its status.
func status(ctx context.Context, socket string) (api.StatusReply, error) {
	var st api.StatusReply
	got := false
	err := api.Call(ctx, socket, api.Request{Cmd: "status"}, func(b json.RawMessage) error {
		got = true
		return json.Unmarshal(b, &st)
	})
	if err == nil && !got {
		err = errors.New("unit did not answer")
	}
	return st, err
}

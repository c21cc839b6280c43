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

// Request is one fan-out: the command for every node whose facts match
// Where (all of them; empty matches every node). ID, Time, JWT and Sig
// are the signature (sign.go).
type Request struct {
	Where  map[string]string `json:"where,omitempty"`
	Cmd    string            `json:"cmd"`
	Name   string            `json:"name,omitempty"`  // a service (start, stop, restart, logs)
	Lines  int               `json:"lines,omitempty"` // logs
	DryRun bool              `json:"dry_run,omitempty"`
	// Resource is an ad-hoc resource (cmd resource): KIND NAME KEY=VALUE...
	Resource string `json:"resource,omitempty"`
	// Update: Content names the bundle in ContentBucket (sha256-HEX of
	// its bytes), SHA256 is its id (the pin unit update checks), and
	// NoReboot leaves the reboot to a later request.
	Content  string    `json:"content,omitempty"`
	SHA256   string    `json:"sha256,omitempty"`
	NoReboot bool      `json:"no_reboot,omitempty"`
	ID       string    `json:"id,omitempty"`
	Time     time.Time `json:"time,omitzero"`
	JWT      string    `json:"jwt,omitempty"`
	Sig      string    `json:"sig,omitempty"`
}

// Reply is one node's answer. Req, JWT and Sig are the node's
// signature (sign.go): the id of the request answered, the node's JWT,
// and its key's signature over the rest.
type Reply struct {
	Node  string            `json:"node"`
	Facts map[string]string `json:"facts,omitempty"`
	Data  []json.RawMessage `json:"data,omitempty"`
	Error string            `json:"error,omitempty"`
	Req   string            `json:"req,omitempty"`
	JWT   string            `json:"jwt,omitempty"`
	Sig   string            `json:"sig,omitempty"`
}

// maxReply bounds the data of one reply (a NATS message's default limit
// is 1 MiB; logs are cut rather than lost).
const maxReply = 512 << 10

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
	// Verifier checks signed requests; nil (a broker without
	// authentication, for development) takes only unsigned read-only
	// requests.
	Verifier *Verifier
	// Signer, the node's own credentials, signs each reply: an asker
	// counts only replies signed by the node they name. nil signs none
	// (a development broker without authentication).
	Signer *Signer
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
	sub, err := r.NC.Subscribe(RPCSubject, func(m *nats.Msg) {
		var req Request
		if len(m.Data) > 64<<10 || json.Unmarshal(m.Data, &req) != nil || !Matches(facts, req.Where) || m.Reply == "" {
			return
		}
		rep := Reply{Node: r.Node, Facts: facts}
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
func (r *Responder) encode(rep Reply, reqID string) ([]byte, error) {
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
func (r *Responder) allowed(req Request) error {
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
	if changes && role != RoleAdmin {
		return fmt.Errorf("%q refused: a %s may not change a node (apply --dry-run is a look)", req.Cmd, role)
	}
	return nil
}

// do runs one allowed request.
func (r *Responder) do(ctx context.Context, req Request, rep *Reply) error {
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
func (r *Responder) update(ctx context.Context, req Request, rep *Reply) error {
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

// Result is a fan-out's answers.
type Result struct {
	Replies []Reply       `json:"replies"`
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
func Ask(ctx context.Context, nc *nats.Conn, req Request, window, max time.Duration, expected []string, progress func(n int)) (*Result, error) {
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
		if account, err = jwtAccount(req.JWT); err != nil {
			return nil, fmt.Errorf("the request's JWT: %w", err)
		}
	}
	b, _ := json.Marshal(req)
	if err := nc.PublishRequest(RPCSubject, inbox, b); err != nil {
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
			var r Reply
			if json.Unmarshal(m.Data, &r) != nil || seen[r.Node] {
				continue
			}
			if account != "" {
				if VerifyReply(r, req.ID, account, time.Now()) != nil {
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

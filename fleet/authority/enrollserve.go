package authority

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/unit-os/unit/fleet"
)

// The authority's side of enrolment: a node sends its token's id and
// secret, its id, the groups it asks for and its public user key, signed
// with that key's private half (which never leaves the node); the
// authority answers with the node's user JWT, issued to that key, with
// NodePermissions for exactly that id and those groups.

// enrollWorkers bounds the requests judged at once.
const enrollWorkers = 8

// refusal is an error that is the request's fault (a bad or spent
// token, a bad field), as opposed to the authority's own (a disk).
type refusal struct{ error }

func (r refusal) Unwrap() error { return r.error }

func refuse(format string, args ...any) error { return refusal{fmt.Errorf(format, args...)} }

// ServeEnroll answers EnrollSubject on nc until ctx ends (nc is the
// authority's own connection, ServiceOptions). Requests are judged a few
// at a time; each token use is spent once whatever the concurrency.
func (a *Authority) ServeEnroll(ctx context.Context, nc *nats.Conn) error {
	l, err := a.listenEnroll(nc)
	if err != nil {
		return err
	}
	l.run(ctx)
	return nil
}

// enrollListener is a subscription to EnrollSubject, made before it is
// served (tests wait for it).
type enrollListener struct {
	a   *Authority
	sub *nats.Subscription
	ch  chan *nats.Msg
}

func (a *Authority) listenEnroll(nc *nats.Conn) (*enrollListener, error) {
	ch := make(chan *nats.Msg, 256)
	sub, err := nc.ChanQueueSubscribe(fleet.EnrollSubject, "unit-fleet-enroll", ch)
	if err != nil {
		return nil, fmt.Errorf("enroll service: subscribe %s: %w", fleet.EnrollSubject, err)
	}
	if err := nc.Flush(); err != nil {
		sub.Unsubscribe()
		return nil, fmt.Errorf("enroll service: %w", err)
	}
	return &enrollListener{a: a, sub: sub, ch: ch}, nil
}

func (l *enrollListener) run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	defer l.sub.Unsubscribe()
	sem := make(chan struct{}, enrollWorkers)
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-l.ch:
			if m.Reply == "" {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				b, _ := json.Marshal(l.a.enroll(m.Data))
				_ = m.Respond(b)
			}()
		}
	}
}

// enroll judges one request and answers it.
func (a *Authority) enroll(data []byte) fleet.EnrollReply {
	req, tok, err := a.admit(data)
	if err != nil {
		node := "?"
		if req != nil && fleet.ValidNode(req.Node) {
			node = req.Node
		}
		var r refusal
		if !errors.As(err, &r) {
			a.log().Error("fleet: enrolment failed", "node", node, "err", err)
			return fleet.EnrollReply{Error: err.Error(), Retry: true}
		}
		a.log().Warn("fleet: enrolment refused", "node", node, "err", err)
		return fleet.EnrollReply{Error: err.Error()}
	}
	a.log().Info("fleet: node enrolled", "node", req.Node, "groups", req.Groups, "key", req.Key)
	return fleet.EnrollReply{JWT: tok}
}

// admit checks a request, spends its token's use and returns the node's
// JWT.
func (a *Authority) admit(data []byte) (*fleet.EnrollRequest, string, error) {
	if len(data) > fleet.MaxEnrollRequest {
		return nil, "", refuse("the request is %d bytes; at most %d", len(data), fleet.MaxEnrollRequest)
	}
	var req fleet.EnrollRequest
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, "", refuse("the request is not JSON of an enrolment")
	}
	if !fleet.ValidNode(req.Node) {
		return &req, "", refuse("the node id is not a layer name (letters, digits, - and _, at most 64)")
	}
	if err := fleet.CheckGroups(req.Groups); err != nil {
		return &req, "", refusal{err}
	}
	if !nkeys.IsValidPublicUserKey(req.Key) {
		return &req, "", refuse("the key is not a public user nkey")
	}
	if len(req.Sig) > 128 {
		return &req, "", refuse("the signature is too long")
	}
	sig, err := base64.RawURLEncoding.DecodeString(req.Sig)
	if err != nil {
		return &req, "", refuse("the signature is not base64url")
	}
	pub, err := nkeys.FromPublicKey(req.Key)
	if err != nil {
		return &req, "", refuse("the key is not a public user nkey")
	}
	if pub.Verify(req.Payload(), sig) != nil {
		return &req, "", refuse("the signature does not match the key (the node must hold the key's private half)")
	}
	// The JWT is made before the use is spent: once spent, nothing is
	// left to fail.
	tok, err := a.nodeJWT(req.Node, req.Groups, req.Key)
	if err != nil {
		return &req, "", err
	}
	if err := a.spend(req.Token, req.Secret, req.Node, req.Key, req.Groups); err != nil {
		return &req, "", err
	}
	return &req, tok, nil
}

// nodeJWT is the user JWT of node, for its public key.
func (a *Authority) nodeJWT(node string, groups []string, key string) (string, error) {
	return a.userJWT(key, node, []string{"unit-role:node"}, fleet.NodePermissions(node, groups), time.Time{}, func(*jwt.UserClaims) {})
}

package fleet

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/nats-io/nuid"
)

// Signed requests. The broker's permissions already keep nodes from
// asking each other anything; on top of that every fan-out request is
// signed with the asker's user key and carries the asker's user JWT, and
// a node only does what a user of its own account, with the role its JWT
// names, may ask: a broker that is broken into, or a credential of the
// broker's own, cannot make a node restart a service. A request is
// accepted once (its id) and only near the node's clock (skew), so a
// recorded request cannot be replayed.

// RoleTag is the JWT tag naming a user's role (admin or reader).
const RoleTag = "unit-role:"

// Roles.
const (
	RoleAdmin  = "admin"
	RoleReader = "reader"
)

// maxSeen bounds the request ids remembered against replays.
const maxSeen = 1 << 16

// skew is how far a request's time may be from the node's clock.
const skew = 2 * time.Minute

// Signer signs requests as one user (an operator's creds file).
type Signer struct {
	JWT string
	kp  nkeys.KeyPair
}

// LoadSigner reads a NATS creds file (its JWT and its user seed).
func LoadSigner(path string) (*Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("creds %s: %w", path, err)
	}
	return ParseSigner(b)
}

// ParseSigner reads creds from their bytes.
func ParseSigner(creds []byte) (*Signer, error) {
	tok, err := jwt.ParseDecoratedJWT(creds)
	if err != nil {
		return nil, fmt.Errorf("creds: %w", err)
	}
	kp, err := jwt.ParseDecoratedUserNKey(creds)
	if err != nil {
		return nil, fmt.Errorf("creds: %w", err)
	}
	return &Signer{JWT: tok, kp: kp}, nil
}

// Sign stamps req with a fresh id, the time, the signer's JWT and a
// signature over all of it.
func (s *Signer) Sign(req *Request) error {
	req.ID, req.Time, req.JWT, req.Sig = nuid.Next(), time.Now().UTC(), s.JWT, ""
	payload, err := json.Marshal(req)
	if err != nil {
		return err
	}
	sig, err := s.kp.Sign(payload)
	if err != nil {
		return err
	}
	req.Sig = b64(sig)
	return nil
}

// Verifier checks requests for one node: signed by a user of Account
// (the account the node's own credentials belong to), not too old, not
// seen before.
type Verifier struct {
	Account string
	// Since is when this verifier started (the agent's start): a request
	// stamped before it is refused, since the ids seen before it are
	// gone with the agent that saw them (kept only in memory, not on
	// disk). Zero takes any time within the skew.
	Since time.Time

	mu   sync.Mutex
	seen map[string]time.Time // request ids within the skew window
}

// Verify returns the role of the request's signer, or why it is refused.
func (v *Verifier) Verify(req Request, now time.Time) (string, error) {
	if req.JWT == "" || req.Sig == "" || req.ID == "" {
		return "", errors.New("the request is not signed")
	}
	if len(req.JWT) > 8<<10 || len(req.Sig) > 256 || len(req.ID) > 64 {
		return "", errors.New("the request's signature fields are too long")
	}
	claims, err := jwt.DecodeUserClaims(req.JWT) // checks the JWT's own signature
	if err != nil {
		return "", fmt.Errorf("the asker's JWT: %w", err)
	}
	issuer := claims.Issuer
	if claims.IssuerAccount != "" {
		issuer = claims.IssuerAccount // issued with one of the account's signing keys
	}
	if issuer != v.Account || v.Account == "" {
		return "", errors.New("the asker is not a user of this node's account")
	}
	vr := jwt.CreateValidationResults()
	claims.Validate(vr)
	if claims.Expires != 0 && now.Unix() > claims.Expires || vr.IsBlocking(true) {
		return "", errors.New("the asker's JWT is expired or invalid")
	}
	sig, err := base64.RawURLEncoding.DecodeString(req.Sig)
	if err != nil {
		return "", errors.New("the signature is not base64url")
	}
	unsigned := req
	unsigned.Sig = ""
	payload, err := json.Marshal(unsigned)
	if err != nil {
		return "", err
	}
	pub, err := nkeys.FromPublicKey(claims.Subject)
	if err != nil {
		return "", fmt.Errorf("the asker's key: %w", err)
	}
	if pub.Verify(payload, sig) != nil {
		return "", errors.New("the signature does not match the request")
	}
	if d := now.Sub(req.Time); d > skew || d < -skew {
		return "", fmt.Errorf("the request's time %s is more than %s from this node's clock", req.Time.Format(time.RFC3339), skew)
	}
	if req.Time.Before(v.Since) {
		return "", fmt.Errorf("the request's time %s is before this node's agent started (%s): it may have been taken before, and the agent no longer knows (ask again)", req.Time.Format(time.RFC3339Nano), v.Since.UTC().Format(time.RFC3339Nano))
	}
	role := ""
	for _, t := range claims.Tags {
		if r, ok := strings.CutPrefix(t, RoleTag); ok {
			role = r
		}
	}
	if role != RoleAdmin && role != RoleReader {
		return "", errors.New("the asker's JWT names no role (unit-role:admin or unit-role:reader)")
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.seen == nil {
		v.seen = map[string]time.Time{}
	}
	for id, t := range v.seen {
		if now.Sub(t) > 2*skew {
			delete(v.seen, id)
		}
	}
	if len(v.seen) >= maxSeen {
		return "", errors.New("too many requests within the replay window")
	}
	if _, dup := v.seen[req.ID]; dup {
		return "", errors.New("the request was seen before (a replay)")
	}
	v.seen[req.ID] = now
	return role, nil
}

// AccountOf is the account a user JWT belongs to (a node's own creds
// say which account may ask it things).
func AccountOf(creds []byte) (string, error) {
	tok, err := jwt.ParseDecoratedJWT(creds)
	if err != nil {
		return "", err
	}
	claims, err := jwt.DecodeUserClaims(tok)
	if err != nil {
		return "", err
	}
	if claims.IssuerAccount != "" {
		return claims.IssuerAccount, nil
	}
	return claims.Issuer, nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// Replies. A reply's Node is what the replier wrote, and any node may
// answer a fan-out request, so a reply is counted only if it proves it
// is from the node it names: the node signs it with its own key (made on
// the node at enrolment, never leaving it) and sends its JWT along; the
// asker takes it only if that JWT is one the asker's own account issued
// to a node of that name (the authority issues one key per node id,
// enrollserve.go), and the signature, over the reply and the request's
// id, is that key's. The asker needs nothing from the replier or the
// broker for this (NATS does not tell a subscriber who published a
// message), and a reply recorded for one request is worth nothing for
// another.

// RoleNode is the role tag of a node's JWT.
const RoleNode = "node"

// replyLabel starts what a node signs for a reply, so that no other
// signature its key makes (a server's nonce, an enrolment) can pass for
// one.
const replyLabel = "unit-fleet reply v1\n"

// replyPayload is what is signed of rep: all of it but the signature.
func replyPayload(rep Reply) ([]byte, error) {
	rep.Sig = ""
	b, err := json.Marshal(rep)
	if err != nil {
		return nil, err
	}
	return append([]byte(replyLabel), b...), nil
}

// SignReply stamps rep, the answer to the request with id reqID, with
// the signer's JWT and its signature.
func (s *Signer) SignReply(rep *Reply, reqID string) error {
	rep.Req, rep.JWT, rep.Sig = reqID, s.JWT, ""
	payload, err := replyPayload(*rep)
	if err != nil {
		return err
	}
	sig, err := s.kp.Sign(payload)
	if err != nil {
		return err
	}
	rep.Sig = b64(sig)
	return nil
}

// VerifyReply says why rep, an answer to the request with id reqID, is
// not provably from the node it names, a node of account; nil if it is.
func VerifyReply(rep Reply, reqID, account string, now time.Time) error {
	if rep.JWT == "" || rep.Sig == "" {
		return errors.New("the reply is not signed")
	}
	if len(rep.JWT) > 16<<10 || len(rep.Sig) > 256 {
		return errors.New("the reply's signature fields are too long")
	}
	if reqID == "" || rep.Req != reqID {
		return errors.New("the reply is not to this request")
	}
	claims, err := jwt.DecodeUserClaims(rep.JWT) // checks the JWT's own signature
	if err != nil {
		return fmt.Errorf("the replier's JWT: %w", err)
	}
	issuer := claims.Issuer
	if claims.IssuerAccount != "" {
		issuer = claims.IssuerAccount
	}
	if account == "" || issuer != account {
		return errors.New("the replier is not a user of the asker's account")
	}
	vr := jwt.CreateValidationResults()
	claims.Validate(vr)
	if claims.Expires != 0 && now.Unix() > claims.Expires || vr.IsBlocking(true) {
		return errors.New("the replier's JWT is expired or invalid")
	}
	if !claims.Tags.Contains(RoleTag+RoleNode) || claims.Name != rep.Node {
		return fmt.Errorf("the replier's JWT is not node %q's", rep.Node)
	}
	sig, err := base64.RawURLEncoding.DecodeString(rep.Sig)
	if err != nil {
		return errors.New("the reply's signature is not base64url")
	}
	payload, err := replyPayload(rep)
	if err != nil {
		return err
	}
	pub, err := nkeys.FromPublicKey(claims.Subject)
	if err != nil {
		return fmt.Errorf("the replier's key: %w", err)
	}
	if pub.Verify(payload, sig) != nil {
		return errors.New("the reply's signature does not match it")
	}
	return nil
}

// JWTAccount is the account a user JWT belongs to (an asker checks
// that replies come from its own account's nodes).
func JWTAccount(tok string) (string, error) {
	claims, err := jwt.DecodeUserClaims(tok)
	if err != nil {
		return "", err
	}
	if claims.IssuerAccount != "" {
		return claims.IssuerAccount, nil
	}
	return claims.Issuer, nil
}

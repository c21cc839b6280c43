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

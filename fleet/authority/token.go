package authority

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/unit-os/unit/fleet"
)

// Provisioning tokens. One printable string (base64url, for a NoCloud
// seed's `fleet_token:` line) that lets a new node enrol once: it holds
// a bearer JWT that can only ask EnrollSubject (and hear the answer),
// ending with the token; a secret the authority checks (it keeps only
// its SHA-256); and the fleet's CA certificate, so the node verifies the
// broker on first contact. The authority keeps, under DIR/tokens/, each
// token's hash, groups, uses left and end; a use is spent under a lock,
// so of two nodes racing for a token's last use exactly one wins.

// Bounds.
const (
	DefaultTokenTTL = 24 * time.Hour
	maxTokenUses    = 10000
)

// tokenRecord is what the authority keeps of a token.
type tokenRecord struct {
	Hash     string    `json:"hash"` // hex SHA-256 of the secret
	Groups   []string  `json:"groups"`
	Uses     int       `json:"uses"` // left
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires"`
	Enrolled []string  `json:"enrolled,omitempty"` // nodes that spent a use
}

// nodeRecord binds a node id to the key it enrolled with: a later token
// cannot give the id to another key.
type nodeRecord struct {
	Key      string    `json:"key"`
	Token    string    `json:"token"`
	Enrolled time.Time `json:"enrolled"`
}

// Token makes a token for uses enrolments (0: one) of nodes that may
// join groups (any subset of them), valid for ttl (0: DefaultTokenTTL).
func (a *Authority) Token(groups []string, uses int, ttl time.Duration) (string, error) {
	if uses == 0 {
		uses = 1
	}
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	if uses < 0 || uses > maxTokenUses {
		return "", fmt.Errorf("token: %d uses; 1 to %d", uses, maxTokenUses)
	}
	if ttl < 0 {
		return "", fmt.Errorf("token: negative lifetime %s", ttl)
	}
	if err := fleet.CheckGroups(groups); err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	return a.newToken(groups, uses, a.now().Add(ttl))
}

// newToken makes a token ending at exp (tests make ones already ended).
func (a *Authority) newToken(groups []string, uses int, exp time.Time) (string, error) {
	var id [16]byte
	var secret [32]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", err
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return "", err
	}
	t := fleet.Token{ID: hex.EncodeToString(id[:]), Secret: base64.RawURLEncoding.EncodeToString(secret[:]), CA: a.ca.cert.Raw}
	// The bearer's own key is thrown away: a bearer JWT needs none, and
	// it proves nothing but holding the token.
	kp, err := nkeys.CreateUser()
	if err != nil {
		return "", err
	}
	pub, _ := kp.PublicKey()
	t.JWT, err = a.userJWT(pub, "enroll "+t.ID[:8], []string{"unit-role:enroll"}, enrollPermissions(t.ID), exp, func(uc *jwt.UserClaims) {
		uc.BearerToken = true
		uc.Limits.Subs = 4
		uc.Limits.Payload = fleet.MaxEnrollRequest
	})
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	sum := sha256.Sum256(secret[:])
	rec := tokenRecord{Hash: hex.EncodeToString(sum[:]), Groups: slices.Clone(groups), Uses: uses, Created: a.now().UTC(), Expires: exp.UTC()}
	if rec.Groups == nil {
		rec.Groups = []string{}
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return "", err
	}
	if err := fleet.CreateSecret(a.tokenPath(t.ID), append(b, '\n')); err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	return t.Encode()
}

func (a *Authority) tokenPath(id string) string {
	return filepath.Join(a.Dir, tokensDir, id+".json")
}

// errBadToken answers both an unknown id and a wrong secret: which one
// it was is no business of the asker's.
var errBadToken error = refusal{errors.New("the token is not valid (unknown, or its secret is wrong)")}

// spend takes one use of the token id for node with key, if secret is
// its secret, it has not ended or been used up, it allows every group
// asked for, and node is not enrolled with another key. It is the one
// place a use is spent: under the process's mutex and the directory's
// lock, read, judge, write.
func (a *Authority) spend(id, secret, node, key string, groups []string) error {
	if !fleet.ValidTokenID(id) {
		return errBadToken
	}
	sec, err := base64.RawURLEncoding.DecodeString(secret)
	if err != nil || len(sec) != 32 {
		return errBadToken
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	unlock, err := fleet.LockFile(filepath.Join(a.Dir, tokensDir, lockName))
	if err != nil {
		return err
	}
	defer unlock()
	b, err := fleet.ReadSecret(a.tokenPath(id))
	if errors.Is(err, os.ErrNotExist) {
		return errBadToken
	}
	if err != nil {
		return fmt.Errorf("token %s: %w", id, err)
	}
	var rec tokenRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return fmt.Errorf("token %s: %w", id, err)
	}
	sum := sha256.Sum256(sec)
	want, err := hex.DecodeString(rec.Hash)
	if err != nil || subtle.ConstantTimeCompare(sum[:], want) != 1 {
		return errBadToken
	}
	now := a.now()
	if !now.Before(rec.Expires) {
		return refuse("the token ended at %s", rec.Expires.Format(time.RFC3339))
	}
	if rec.Uses <= 0 {
		return refuse("the token was used up")
	}
	for _, g := range groups {
		if !slices.Contains(rec.Groups, g) {
			return refuse("the token does not allow group %q (it allows %s)", g, orNone(rec.Groups))
		}
	}
	npath := filepath.Join(a.Dir, nodesDir, node+".json")
	if nb, err := fleet.ReadSecret(npath); err == nil {
		var nr nodeRecord
		if json.Unmarshal(nb, &nr) != nil || nr.Key != key {
			return refuse("node %s is enrolled with another key (on the authority, remove %s to provision it again)", node, npath)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("node %s: %w", node, err)
	}
	nb, _ := json.Marshal(nodeRecord{Key: key, Token: id, Enrolled: now.UTC()})
	if err := fleet.WriteSecret(npath, append(nb, '\n')); err != nil {
		return err
	}
	rec.Uses--
	rec.Enrolled = append(rec.Enrolled, node)
	b, _ = json.MarshalIndent(rec, "", "  ")
	return fleet.WriteSecret(a.tokenPath(id), append(b, '\n'))
}

func orNone(groups []string) string {
	if len(groups) == 0 {
		return "none"
	}
	return strings.Join(groups, ", ")
}

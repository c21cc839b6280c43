package fleet

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/nats-io/jwt/v2"
)

// Provisioning tokens on the wire. One printable string (base64url, for
// a NoCloud seed's `fleet_token:` line) that lets a new node enrol once:
// it holds a bearer JWT that can only ask EnrollSubject (and hear the
// answer), ending with the token; a secret the authority checks (it
// keeps only its SHA-256); and the fleet's CA certificate, so the node
// verifies the broker on first contact. The authority makes them
// (authority.Token); a node reads them (ParseToken).

// tokenPrefix starts every token (and versions its format).
const tokenPrefix = "unit1."

// Bounds.
const (
	maxGroups   = 64
	MaxTokenLen = 8 << 10 // a token string's bound
)

var tokenIDRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// ValidTokenID says whether id may be a token's id (32 hex digits).
func ValidTokenID(id string) bool { return tokenIDRE.MatchString(id) }

// Token is what a token string carries.
type Token struct {
	ID     string `json:"id"`
	Secret string `json:"secret"` // base64url, 32 bytes
	JWT    string `json:"jwt"`    // the bearer user JWT
	CA     []byte `json:"ca"`     // DER of the fleet's CA certificate
}

// Encode is the token as the one line a seed carries.
func (t *Token) Encode() (string, error) {
	wire, err := json.Marshal(t)
	if err != nil {
		return "", err
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(wire), nil
}

// ParseToken reads a token string; a token is hostile until its CA and
// JWT parse.
func ParseToken(s string) (*Token, error) {
	s = strings.TrimSpace(s)
	if len(s) > MaxTokenLen {
		return nil, errors.New("the token is too long")
	}
	rest, ok := strings.CutPrefix(s, tokenPrefix)
	if !ok {
		return nil, fmt.Errorf("not a unit fleet token (it starts with %q)", tokenPrefix)
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("the token is not base64url: %w", err)
	}
	var t Token
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("the token: %w", err)
	}
	if !tokenIDRE.MatchString(t.ID) || len(t.Secret) != 43 || t.JWT == "" {
		return nil, errors.New("the token lacks its id, secret or JWT")
	}
	if _, err := jwt.DecodeUserClaims(t.JWT); err != nil {
		return nil, fmt.Errorf("the token's JWT: %w", err)
	}
	ca, err := x509.ParseCertificate(t.CA)
	if err != nil || !ca.IsCA {
		return nil, errors.New("the token's CA is not a CA certificate")
	}
	return &t, nil
}

// CAPEM is the token's CA as PEM.
func (t *Token) CAPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: t.CA})
}

// CheckGroups refuses a list of groups that is too long, holds a name
// that is not a layer name, or one twice.
func CheckGroups(groups []string) error {
	if len(groups) > maxGroups {
		return fmt.Errorf("%d groups; at most %d", len(groups), maxGroups)
	}
	seen := map[string]bool{}
	for _, g := range groups {
		if !ValidNode(g) {
			return fmt.Errorf("group %q is not a layer name (letters, digits, - and _)", g)
		}
		if seen[g] {
			return fmt.Errorf("group %q twice", g)
		}
		seen[g] = true
	}
	return nil
}

package agent

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/unit-os/unit/fleet"
)

// A node's credentials on its disk, and how they connect it; an
// operator's, likewise (OperatorOptions).

// Files in a node's credentials directory.
const (
	nodeKeyFile   = "node.nk"
	nodeCredsFile = "node.creds"
	nodeCAFile    = "ca.pem"
)

// Creds are a node's credentials, in Dir.
type Creds struct{ Dir string }

// Options connect node with its credentials: its user JWT and key, the
// fleet's CA as the only root, its own inbox prefix (the only one its
// permissions let it subscribe to).
func (c *Creds) Options(node string) []nats.Option {
	return []nats.Option{
		nats.UserCredentials(filepath.Join(c.Dir, nodeCredsFile)),
		nats.RootCAs(filepath.Join(c.Dir, nodeCAFile)),
		nats.CustomInboxPrefix(fleet.InboxPrefix(node)),
	}
}

// Account is the account the node's JWT belongs to: the one whose users
// may sign requests to it (Verifier.Account).
func (c *Creds) Account() (string, error) {
	b, err := fleet.ReadSecret(filepath.Join(c.Dir, nodeCredsFile))
	if err != nil {
		return "", err
	}
	return fleet.AccountOf(b)
}

// Signer is the node's own key and JWT, which sign its replies
// (Responder.Signer).
func (c *Creds) Signer() (*fleet.Signer, error) {
	b, err := fleet.ReadSecret(filepath.Join(c.Dir, nodeCredsFile))
	if err != nil {
		return nil, err
	}
	return fleet.ParseSigner(b)
}

// LoadCreds returns the credentials in dir if they are whole: a JWT for
// the key in dir's node.nk, not expired, and the CA beside it. Whether
// they are for a given node id and its groups is Enroll's check, which
// also reuses them without asking anyone.
func LoadCreds(dir string) (*Creds, error) {
	if err := checkCredsDir(dir); err != nil {
		return nil, err
	}
	b, err := fleet.ReadSecret(filepath.Join(dir, nodeKeyFile))
	if err != nil {
		return nil, err
	}
	kp, err := nkeys.FromSeed(bytes.TrimSpace(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nodeKeyFile, err)
	}
	pub, _ := kp.PublicKey()
	if _, err := readCreds(dir, pub); err != nil {
		return nil, err
	}
	if err := readCA(dir); err != nil {
		return nil, err
	}
	return &Creds{Dir: dir}, nil
}

// checkCredsDir refuses a credentials directory that is not a safe one,
// without making it.
func checkCredsDir(dir string) error {
	if _, err := os.Lstat(dir); err != nil {
		return err
	}
	return fleet.SecureDir(dir)
}

// readCreds reads dir's node.creds: a JWT for pub, not expired.
func readCreds(dir, pub string) (*jwt.UserClaims, error) {
	b, err := fleet.ReadSecret(filepath.Join(dir, nodeCredsFile))
	if err != nil {
		return nil, err
	}
	tok, err := jwt.ParseDecoratedJWT(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nodeCredsFile, err)
	}
	uc, err := jwt.DecodeUserClaims(tok)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nodeCredsFile, err)
	}
	if uc.Subject != pub {
		return nil, fmt.Errorf("%s is for another key than %s", nodeCredsFile, nodeKeyFile)
	}
	if uc.Expires != 0 && time.Now().Unix() >= uc.Expires {
		return nil, fmt.Errorf("%s has expired", nodeCredsFile)
	}
	return uc, nil
}

// readCA checks dir's ca.pem.
func readCA(dir string) error {
	ca, err := fleet.ReadPublic(filepath.Join(dir, nodeCAFile))
	if err != nil {
		return err
	}
	if _, err := fleet.ParseCertPEM(ca); err != nil {
		return fmt.Errorf("%s: %w", nodeCAFile, err)
	}
	return nil
}

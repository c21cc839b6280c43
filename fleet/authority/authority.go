// Package authority is the fleet's authority, on the broker's machine
// (unit-fleet-server): the operator, account and system keys, the
// fleet's TLS CA, provisioning tokens, the enrolment service that trades
// them for node credentials, the operators' permissions and users.
package authority

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/unit-os/unit/fleet"
)

// The authority is the operator side's keys, in one directory (the
// broker's host keeps it; nothing else needs it): an operator key that
// signs the accounts, the account UNIT whose key signs every user (nodes,
// operators, the enrolment service), the system account SYS, their JWTs
// and the fleet's TLS CA (tlsca.go). Decentralised auth: the broker
// holds no user list, only the operator and account JWTs, and checks
// each user's JWT and its signature of the connection's nonce.

// Files in an authority's directory.
const (
	operatorKeyFile = "operator.nk"
	accountKeyFile  = "account.nk"
	sysKeyFile      = "sys.nk"
	operatorJWTFile = "operator.jwt"
	accountJWTFile  = "account.jwt"
	sysJWTFile      = "sys.jwt"
	adminCredsFile  = "admin.creds"
	tokensDir       = "tokens"
	nodesDir        = "nodes"
	lockName        = ".lock"
)

// Account names.
const (
	AccountName    = "UNIT"
	SysAccountName = "SYS"
)

// Authority is the operator side's keys and what it does with them.
type Authority struct {
	Dir string
	Log *slog.Logger // nil: slog.Default()

	operator, account, sys          nkeys.KeyPair
	operatorJWT, accountJWT, sysJWT string
	accountPub, sysPub              string
	ca                              *tlsCA

	// now is the clock tokens are judged by (tests move it).
	now func() time.Time
	// mu orders this process's token spending; the lock file orders
	// processes.
	mu sync.Mutex
}

// Open loads the authority kept in dir, making its keys, JWTs
// and CA on first use.
func Open(dir string) (*Authority, error) {
	a, err := openAuthority(dir)
	if err != nil {
		return nil, fmt.Errorf("authority %s: %w", dir, err)
	}
	return a, nil
}

func openAuthority(dir string) (*Authority, error) {
	dir = filepath.Clean(dir)
	if err := fleet.SecureDir(dir); err != nil {
		return nil, err
	}
	unlock, err := fleet.LockFile(filepath.Join(dir, lockName))
	if err != nil {
		return nil, err
	}
	defer unlock()
	a := &Authority{Dir: dir, now: time.Now}
	if a.operator, err = fleet.OpenKey(filepath.Join(dir, operatorKeyFile), nkeys.PrefixByteOperator); err != nil {
		return nil, err
	}
	if a.account, err = fleet.OpenKey(filepath.Join(dir, accountKeyFile), nkeys.PrefixByteAccount); err != nil {
		return nil, err
	}
	if a.sys, err = fleet.OpenKey(filepath.Join(dir, sysKeyFile), nkeys.PrefixByteAccount); err != nil {
		return nil, err
	}
	opPub, _ := a.operator.PublicKey()
	a.accountPub, _ = a.account.PublicKey()
	a.sysPub, _ = a.sys.PublicKey()
	if a.accountPub == a.sysPub {
		return nil, fmt.Errorf("%s and %s hold the same key", accountKeyFile, sysKeyFile)
	}
	a.operatorJWT, err = openJWT(filepath.Join(dir, operatorJWTFile), func() (string, error) {
		oc := jwt.NewOperatorClaims(opPub)
		oc.Name = "unit"
		oc.SystemAccount = a.sysPub
		return oc.Encode(a.operator)
	}, func(tok string) error {
		oc, err := jwt.DecodeOperatorClaims(tok)
		if err != nil {
			return err
		}
		if oc.Subject != opPub || oc.Issuer != opPub || oc.SystemAccount != a.sysPub {
			return errors.New("not the operator of this directory's keys")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	checkAccount := func(pub string, js bool) func(string) error {
		return func(tok string) error {
			ac, err := jwt.DecodeAccountClaims(tok)
			if err != nil {
				return err
			}
			if ac.Subject != pub || ac.Issuer != opPub {
				return errors.New("not an account of this directory's keys")
			}
			if js && !ac.Limits.IsJSEnabled() {
				return errors.New("the account has no JetStream")
			}
			return nil
		}
	}
	a.accountJWT, err = openJWT(filepath.Join(dir, accountJWTFile), func() (string, error) {
		ac := jwt.NewAccountClaims(a.accountPub)
		ac.Name = AccountName
		// JetStream on disk and in memory, bounded by the broker's own
		// limits: the fleet's buckets live here.
		ac.Limits.JetStreamLimits = jwt.JetStreamLimits{
			MemoryStorage: jwt.NoLimit, DiskStorage: jwt.NoLimit,
			Streams: jwt.NoLimit, Consumer: jwt.NoLimit, MaxAckPending: jwt.NoLimit,
		}
		return ac.Encode(a.operator)
	}, checkAccount(a.accountPub, true))
	if err != nil {
		return nil, err
	}
	a.sysJWT, err = openJWT(filepath.Join(dir, sysJWTFile), func() (string, error) {
		ac := jwt.NewAccountClaims(a.sysPub)
		ac.Name = SysAccountName
		return ac.Encode(a.operator)
	}, checkAccount(a.sysPub, false))
	if err != nil {
		return nil, err
	}
	if a.ca, err = openCA(dir); err != nil {
		return nil, err
	}
	for _, d := range []string{tokensDir, nodesDir} {
		if err := fleet.SecureDir(filepath.Join(dir, d)); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// openJWT loads the JWT at path, checked by check, or makes and stores
// it.
func openJWT(path string, make func() (string, error), check func(string) error) (string, error) {
	b, err := fleet.ReadPublic(path)
	if errors.Is(err, os.ErrNotExist) {
		tok, err := make()
		if err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		if err := fleet.CreateSecret(path, []byte(tok+"\n")); err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		return tok, nil
	}
	if err != nil {
		return "", err
	}
	tok := string(bytes.TrimSpace(b))
	if err := check(tok); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return tok, nil
}

// AccountKey is the public key of the account UNIT (what a node's
// Verifier trusts).
func (a *Authority) AccountKey() string { return a.accountPub }

// CAPEM is the fleet's CA certificate.
func (a *Authority) CAPEM() []byte { return bytes.Clone(a.ca.pem) }

// CAPath is where the CA certificate is kept (for OperatorOptions).
func (a *Authority) CAPath() string { return filepath.Join(a.Dir, caCertFile) }

// Trust is what a nats-server needs to trust this authority only: the
// operator, both accounts' JWTs (for a memory resolver), SYS as the
// system account, and TLS, required of every client, with a certificate
// from the fleet's CA. It is handed over as plain values so that this
// package does not link the server (fleet/broker applies it to a
// server's options).
type Trust struct {
	Operator      *jwt.OperatorClaims
	Accounts      map[string]string // public key -> account JWT
	SystemAccount string
	TLS           *tls.Config
}

// Trust is the broker's trust for names (host names and IP addresses
// nodes reach it by; localhost and loopback's are always in).
func (a *Authority) Trust(names []string) (*Trust, error) {
	oc, err := jwt.DecodeOperatorClaims(a.operatorJWT)
	if err != nil {
		return nil, fmt.Errorf("trust: %w", err)
	}
	tc, err := a.ca.serverTLS(names)
	if err != nil {
		return nil, fmt.Errorf("trust: %w", err)
	}
	return &Trust{Operator: oc, Accounts: map[string]string{a.accountPub: a.accountJWT, a.sysPub: a.sysJWT},
		SystemAccount: a.sysPub, TLS: tc}, nil
}

func (a *Authority) log() *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.Default()
}

package authority

import (
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
	"unicode"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/unit-os/unit/fleet"
)

// Users of the account: operators (admin, reader), the enrolment
// service; nodes are issued by enrolment (enrollserve.go). Each is a key
// made where it will live (here, for operators: the creds carry it) and
// a JWT the account key signs, naming its role and its permissions
// (permissions.go).

// User issues a user of the account with role (RoleAdmin: anything in
// the account; RoleReader: fan-out requests and reading the status
// bucket, never desired state), valid for ttl (0: no end), as a NATS
// creds file. Its key is made here and lives only in the creds.
func (a *Authority) User(name, role string, ttl time.Duration) ([]byte, error) {
	if name == "" || len(name) > 128 || !printable(name) {
		return nil, fmt.Errorf("user %q: a user name is 1 to 128 printable characters", name)
	}
	// An admin may do anything in the account (nothing to list); a
	// reader's permissions name its own key (its inbox).
	perms := func(string) jwt.Permissions { return jwt.Permissions{} }
	switch role {
	case fleet.RoleAdmin:
	case fleet.RoleReader:
		perms = ReaderPermissions
	default:
		return nil, fmt.Errorf("user %s: role %q is neither %s nor %s", name, role, fleet.RoleAdmin, fleet.RoleReader)
	}
	if ttl < 0 {
		return nil, fmt.Errorf("user %s: negative lifetime %s", name, ttl)
	}
	var exp time.Time
	if ttl > 0 {
		exp = a.now().Add(ttl)
	}
	creds, _, err := a.issue(name, []string{fleet.RoleTag + role}, perms, exp)
	if err != nil {
		return nil, fmt.Errorf("user %s: %w", name, err)
	}
	return creds, nil
}

// issue makes a user key and its JWT, with the permissions perms gives
// for its public key, and returns them as creds.
func (a *Authority) issue(name string, tags []string, perms func(pub string) jwt.Permissions, exp time.Time) (creds []byte, tok string, err error) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return nil, "", err
	}
	pub, _ := kp.PublicKey()
	tok, err = a.userJWT(pub, name, tags, perms(pub), exp, func(*jwt.UserClaims) {})
	if err != nil {
		return nil, "", err
	}
	seed, err := kp.Seed()
	if err != nil {
		return nil, "", err
	}
	creds, err = jwt.FormatUserConfig(tok, seed)
	return creds, tok, err
}

// userJWT signs a user JWT for the public key pub.
func (a *Authority) userJWT(pub, name string, tags []string, perms jwt.Permissions, exp time.Time, more func(*jwt.UserClaims)) (string, error) {
	uc := jwt.NewUserClaims(pub)
	uc.Name = name
	uc.Tags.Add(tags...)
	uc.Permissions = perms
	uc.AllowedConnectionTypes = jwt.StringList{jwt.ConnectionTypeStandard}
	if !exp.IsZero() {
		uc.Expires = exp.Unix()
	}
	more(uc)
	vr := jwt.CreateValidationResults()
	uc.Validate(vr)
	if vr.IsBlocking(false) {
		return "", fmt.Errorf("user JWT: %v", vr.Errors())
	}
	return uc.Encode(a.account)
}

func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// AdminCreds makes DIR/admin.creds (0600, an admin without an end) the
// first time and returns its path; later calls check and return it.
func (a *Authority) AdminCreds() (string, error) {
	path := filepath.Join(a.Dir, adminCredsFile)
	b, err := fleet.ReadSecret(path)
	if errors.Is(err, os.ErrNotExist) {
		creds, err := a.User("admin", fleet.RoleAdmin, 0)
		if err != nil {
			return "", err
		}
		// Made beside us (ErrExist) is as good: theirs it is.
		if err := fleet.CreateSecret(path, creds); err != nil && !errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("admin creds: %w", err)
		}
		return path, nil
	}
	if err != nil {
		return "", fmt.Errorf("admin creds: %w", err)
	}
	if acct, err := fleet.AccountOf(b); err != nil || acct != a.accountPub {
		return "", fmt.Errorf("admin creds %s: not a user of this authority's account", path)
	}
	return path, nil
}

// ServiceOptions connect the authority's own enrolment service: a fresh
// user that may only take EnrollSubject's requests and answer them.
func (a *Authority) ServiceOptions() ([]nats.Option, error) {
	creds, _, err := a.issue("unit-fleet enroll service", nil, func(string) jwt.Permissions { return ServicePermissions() }, time.Time{})
	if err != nil {
		return nil, fmt.Errorf("enroll service: %w", err)
	}
	pool, err := fleet.CAPool(a.ca.pem)
	if err != nil {
		return nil, err
	}
	return []nats.Option{
		nats.UserCredentialBytes(creds),
		nats.Secure(&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}),
		nats.Name("unit-fleet enroll service"),
	}, nil
}

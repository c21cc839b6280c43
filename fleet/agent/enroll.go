package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/unit-os/unit/fleet"
)

// The node's side of enrolment. Its user key is made on the node, once
// (DIR/node.nk), and never leaves it; the token buys a JWT for that key
// (DIR/node.creds) and brings the CA (DIR/ca.pem). Later boots find the
// creds and do not need the token, which is spent by then.

// Enroll returns node's credentials in dir: the ones there if they are
// for this node's key and cover groups, else new ones for which it asks
// the authority at url (TLS, verified with the token's CA) with token.
// Permanent(err) says whether asking again can help.
func Enroll(ctx context.Context, url, token, node string, groups []string, dir string) (*Creds, error) {
	c, err := enroll(ctx, url, token, node, groups, dir)
	if err != nil {
		return nil, fmt.Errorf("enroll %s: %w", node, err)
	}
	return c, nil
}

// permanentError is an enrolment failure that asking again will not
// mend: a refusal, a broker the token's CA did not sign, a token that is
// not one, a key directory that is not safe. Anything else (the broker
// out of reach, the authority's own trouble) may pass.
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// Permanent says whether err (from Enroll) will come back however often
// it is tried.
func Permanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

func permanent(err error) error { return permanentError{err} }

func enroll(ctx context.Context, url, token, node string, groups []string, dir string) (*Creds, error) {
	if !fleet.ValidNode(node) {
		return nil, permanent(errors.New("the node id is not a layer name (letters, digits, - and _)"))
	}
	if err := fleet.CheckGroups(groups); err != nil {
		return nil, permanent(err)
	}
	if err := fleet.SecureDir(dir); err != nil {
		return nil, permanent(err)
	}
	kp, err := fleet.OpenKey(filepath.Join(dir, nodeKeyFile), nkeys.PrefixByteUser)
	if err != nil {
		return nil, permanent(err)
	}
	pub, _ := kp.PublicKey()
	why := usableCreds(dir, node, groups, pub)
	if why == nil {
		return &Creds{Dir: dir}, nil
	}
	if token == "" {
		return nil, permanent(fmt.Errorf("no usable credentials (%v) and no token to enrol with", why))
	}
	t, err := fleet.ParseToken(token)
	if err != nil {
		return nil, permanent(err)
	}
	req := fleet.EnrollRequest{Token: t.ID, Secret: t.Secret, Node: node, Groups: groups, Key: pub}
	if err := req.Sign(kp); err != nil {
		return nil, err
	}
	rep, err := AskEnroll(ctx, url, t, req)
	if err != nil {
		return nil, err
	}
	if rep.Error != "" {
		if rep.Retry {
			return nil, fmt.Errorf("the authority failed: %s", rep.Error)
		}
		return nil, permanent(fmt.Errorf("refused: %s", rep.Error))
	}
	uc, err := jwt.DecodeUserClaims(rep.JWT)
	if err != nil || uc.Subject != pub {
		return nil, permanent(errors.New("the authority's answer is not a JWT for this node's key"))
	}
	seed, err := kp.Seed()
	if err != nil {
		return nil, err
	}
	creds, err := jwt.FormatUserConfig(rep.JWT, seed)
	if err != nil {
		return nil, err
	}
	// The CA first: creds that are there always have their CA.
	if err := fleet.WriteSecret(filepath.Join(dir, nodeCAFile), t.CAPEM()); err != nil {
		return nil, err
	}
	if err := fleet.WriteSecret(filepath.Join(dir, nodeCredsFile), creds); err != nil {
		return nil, err
	}
	return &Creds{Dir: dir}, nil
}

// usableCreds says why dir's creds will not do for node with key pub and
// groups, or nil.
func usableCreds(dir, node string, groups []string, pub string) error {
	uc, err := readCreds(dir, pub)
	if err != nil {
		return err
	}
	if uc.Name != node {
		return fmt.Errorf("%s is node %q's", nodeCredsFile, uc.Name)
	}
	for _, s := range fleet.NodePermissions(node, groups).Pub.Allow {
		if !slices.Contains(uc.Pub.Allow, s) {
			return fmt.Errorf("%s does not cover %s (groups changed?)", nodeCredsFile, s)
		}
	}
	return readCA(dir)
}

// AskEnroll sends req with the token's bearer JWT, over TLS that trusts
// the token's CA only. A broker without the service yet (no responders)
// is asked again with a growing pause until ctx ends; a permission the
// broker refuses ends it at once (no answer would come).
func AskEnroll(ctx context.Context, url string, t *fleet.Token, req fleet.EnrollRequest) (fleet.EnrollReply, error) {
	var rep fleet.EnrollReply
	pool, err := fleet.CAPool(t.CAPEM())
	if err != nil {
		return rep, err
	}
	refused := make(chan error, 1)
	nc, err := nats.Connect(url,
		nats.UserJWT(func() (string, error) { return t.JWT, nil },
			func([]byte) ([]byte, error) { return nil, nil }), // a bearer JWT signs no nonce
		nats.Secure(&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}),
		nats.CustomInboxPrefix(fleet.EnrollInbox(t.ID)),
		nats.Name("unit-fleet enroll "+req.Node),
		nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrPermissionViolation) {
				select {
				case refused <- err:
				default:
				}
			}
		}),
	)
	if err != nil {
		err = fmt.Errorf("connect %s: %w", url, err)
		if untrusted(err) {
			err = permanent(err)
		}
		return rep, err
	}
	defer nc.Close()
	data, err := json.Marshal(req)
	if err != nil {
		return rep, err
	}
	pause := 100 * time.Millisecond
	for {
		m, err := requestOrRefusal(ctx, nc, data, refused)
		if errors.Is(err, nats.ErrNoResponders) {
			select {
			case <-ctx.Done():
				return rep, fmt.Errorf("no enrolment service at %s: %w", url, ctx.Err())
			case <-time.After(pause):
				pause = min(2*pause, 5*time.Second)
				continue
			}
		}
		if err != nil {
			return rep, fmt.Errorf("ask %s: %w", fleet.EnrollSubject, err)
		}
		if err := json.Unmarshal(m.Data, &rep); err != nil {
			return rep, fmt.Errorf("the authority's answer: %w", err)
		}
		if rep.Error == "" && rep.JWT == "" {
			return rep, errors.New("the authority's answer is empty")
		}
		return rep, nil
	}
}

// enrollWait bounds the wait for one answer (a lost request is asked
// again by Enroll's caller, not waited for forever).
const enrollWait = 30 * time.Second

// requestOrRefusal asks EnrollSubject and waits for the answer or for
// the broker's refusal of a permission, whichever comes first.
func requestOrRefusal(ctx context.Context, nc *nats.Conn, data []byte, refused <-chan error) (*nats.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, enrollWait)
	defer cancel()
	type answer struct {
		m   *nats.Msg
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		m, err := nc.RequestWithContext(ctx, fleet.EnrollSubject, data)
		ch <- answer{m, err}
	}()
	select {
	case a := <-ch:
		return a.m, a.err
	case err := <-refused:
		cancel()
		<-ch
		return nil, permanent(fmt.Errorf("%w (a token altered, or not this fleet's?)", err))
	}
}

// untrusted says whether a connection failed on trust, not reach: the
// broker's certificate is not the token CA's or not for its name, or
// the broker refused the token's JWT (ended, or not this fleet's).
func untrusted(err error) bool {
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) ||
		errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) || errors.Is(err, nats.ErrAuthRevoked)
}

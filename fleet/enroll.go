package fleet

import (
	"encoding/json"

	"github.com/nats-io/nkeys"
)

// Enrolment on the wire: a node sends its token's id and secret, its
// id, the groups it asks for and its public user key, signed with that
// key's private half (which never leaves the node); the authority
// answers with the node's user JWT, issued to that key, with
// NodePermissions for exactly that id and those groups.

// MaxEnrollRequest bounds a request (every field of which is hostile).
const MaxEnrollRequest = 16 << 10

// EnrollRequest is a node's request.
type EnrollRequest struct {
	Token  string   `json:"token"`  // the token's id
	Secret string   `json:"secret"` // the token's secret
	Node   string   `json:"node"`
	Groups []string `json:"groups,omitempty"`
	Key    string   `json:"key"` // the node's public user nkey
	Sig    string   `json:"sig"` // base64url: Key's signature of Payload()
}

// Payload is what the node signs: the request without its signature,
// after a label, so no signature the key makes elsewhere (a server's
// nonce) can pass for one here.
func (r EnrollRequest) Payload() []byte {
	r.Sig = ""
	b, _ := json.Marshal(r)
	return append([]byte("unit-fleet enroll v1\n"), b...)
}

// Sign sets Sig: kp's signature of the payload.
func (r *EnrollRequest) Sign(kp nkeys.KeyPair) error {
	sig, err := kp.Sign(r.Payload())
	if err != nil {
		return err
	}
	r.Sig = b64(sig)
	return nil
}

// EnrollReply is the authority's answer.
type EnrollReply struct {
	JWT   string `json:"jwt,omitempty"`
	Error string `json:"error,omitempty"`
	// Retry: the authority failed, not the request; asking again may
	// work.
	Retry bool `json:"retry,omitempty"`
}

// EnrollInbox is the inbox prefix of a token's bearer (apart from every
// node's: "_INBOX_" + a layer name can never be it).
func EnrollInbox(tokenID string) string { return "_ENROLL_" + tokenID }

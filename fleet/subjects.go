// Package fleet is what a fleet's node (fleet/agent), its operators
// (fleet/operator), its authority (fleet/authority) and its broker
// (fleet/broker) must agree on: the names on NATS, the buckets, the
// wire types (requests, replies, status, tokens, enrolment), the
// permissions a node is issued, signing and verifying, the key files
// and the CA certificate on disk.
package fleet

import "github.com/unit-os/unit/config"

// The fleet's names on NATS, in one place: the agent, the operator's
// commands and the permissions each node is issued (authority.go) must
// agree on them.
const (
	// Bucket is the KV bucket of desired state: keys all, group.NAME,
	// node.ID, each a TOML fragment. Only operators write it.
	Bucket = "unit-desired"
	// StatusBucket holds what nodes say about themselves: key node.ID,
	// written by that node only, on change; and maintenance.ID, written
	// by operators (unit-fleet disable).
	StatusBucket = "unit-status"
	// RPCSubject is where fan-out requests go; every agent listens and
	// answers only what a signed request from a trusted role may ask.
	RPCSubject = "unit.rpc"
	// EnrollSubject is where a new node trades its provisioning token
	// and public key for its credentials.
	EnrollSubject = "unit.enroll"
)

// ServerStore is where unit-fleet-server keeps the authority and
// JetStream's store (and so admin.creds and ca.pem, which an operator on
// the broker's machine uses by default).
const ServerStore = "/var/lib/unit-fleet-server"

// InboxPrefix is a node's own reply subjects (its permissions allow it
// to subscribe there and nowhere else's).
func InboxPrefix(node string) string { return "_INBOX_" + node }

// OperatorInbox is an operator's own reply subjects, by its user key:
// "_INBOX." and the key, apart from every node's ("_INBOX_" + a layer
// name) and from nats.go's default ("_INBOX." + a 22-character nuid, a
// user key is 56). A reader's permissions allow it to subscribe there
// and nowhere else; OperatorOptions sets it.
func OperatorInbox(userKey string) string { return "_INBOX." + userKey }

// StatusKey and MaintenanceKey are a node's keys in StatusBucket.
func StatusKey(node string) string      { return "node." + node }
func MaintenanceKey(node string) string { return "maintenance." + node }

// LayerKeys are the KV keys of a node's layers of desired state, lowest
// first.
func LayerKeys(node string, groups []string) []string {
	keys := []string{"all"}
	for _, g := range groups {
		keys = append(keys, "group."+g)
	}
	return append(keys, "node."+node)
}

// ValidNode reports whether s may be a node id or group name: a layer
// name (letters, digits, - and _), so it is one subject token and one
// file name.
func ValidNode(s string) bool { return config.IsName(s) }

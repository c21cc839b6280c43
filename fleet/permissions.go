package fleet

import (
	"time"

	"github.com/nats-io/jwt/v2"
)

// What a node may do on the broker, as subject permissions in its JWT:
// the authority issues them (authority.NodePermissions' callers), and a
// node checks that the credentials it has still cover them (its groups
// may have changed). A subject a list does not name is refused by the
// broker (a "permissions violation" on the client), JetStream's API
// included: each JetStream call is a request on a subject under
// $JS.API, so a permission on the subject is a permission on the call.

// rpcReplyWindow is how long a node may answer a request it got (the
// broker's allow-responses: one reply, to that request's reply subject
// only); a fan-out's slowest answer (logs through the control socket)
// takes up to 30 s.
const rpcReplyWindow = 90 * time.Second

// KVStream is the stream behind a KV bucket.
func KVStream(bucket string) string { return "KV_" + bucket }

// KVSubject is the subject of key in bucket.
func KVSubject(bucket, key string) string { return "$KV." + bucket + "." + key }

// NodePermissions are a node's: follow its own layers (one ordered
// consumer per key of LayerKeys, each created by a request whose subject
// names the key, so another node's or group's key cannot be asked for),
// put its own status, take fan-out requests and answer each once. It may
// not write desired state, read anything else of either bucket (not even
// their stream info, which would list their keys), publish requests,
// subscribe beyond its own inbox, or manage streams. A node or
// group that is not a layer name (ValidNode) would widen the subjects:
// an invalid node gets no permission at all, an invalid group is left
// out.
func NodePermissions(node string, groups []string) jwt.Permissions {
	if !ValidNode(node) {
		return jwt.Permissions{Pub: jwt.Permission{Deny: []string{">"}}, Sub: jwt.Permission{Deny: []string{">"}}}
	}
	var valid []string
	for _, g := range groups {
		if ValidNode(g) {
			valid = append(valid, g)
		}
	}
	desired := KVStream(Bucket)
	pub := jwt.StringList{
		// No STREAM.INFO of either bucket: with a subjects filter it
		// lists every key (every node and group of the fleet). A node
		// opens them with NodeKV, which needs none.
		//
		// A watch's ordered consumer is deleted when it stops or is made
		// again after a gap; its name is random and never listed to a
		// node, so this lets it delete only the ones it made.
		"$JS.API.CONSUMER.DELETE." + desired + ".*",
		// kv.Put of its own status (and its ack, to its inbox).
		KVSubject(StatusBucket, StatusKey(node)),
	}
	// Content by hash (content.go): any object of ContentBucket, read
	// only. Its names are hashes a node checks; what is in it is
	// nobody's secret (update bundles).
	pub = append(pub, ContentReads()...)
	for _, k := range LayerKeys(node, valid) {
		// CONSUMER.CREATE.<stream>.<name>.<filter>: the broker refuses a
		// consumer whose filter is not the one in the subject.
		pub = append(pub, "$JS.API.CONSUMER.CREATE."+desired+".*."+KVSubject(Bucket, k))
	}
	return jwt.Permissions{
		Pub: jwt.Permission{Allow: pub},
		// Its inbox: JetStream's answers, its watches' deliveries.
		Sub: jwt.Permission{Allow: jwt.StringList{InboxPrefix(node) + ".>", RPCSubject}},
		// Replies to what it was sent only: fan-out requests, and the
		// flow control of its watches' consumers.
		Resp: &jwt.ResponsePermission{MaxMsgs: 1, Expires: rpcReplyWindow},
	}
}

// ContentReads are the subjects reading ContentBucket takes: the
// stream's info, an object's meta (a direct get, or the API's get), one
// ordered consumer on its chunks. Nodes and readers have them; writing
// it is an admin's.
func ContentReads() jwt.StringList {
	obj := "OBJ_" + ContentBucket
	return jwt.StringList{
		"$JS.API.STREAM.INFO." + obj,
		"$JS.API.DIRECT.GET." + obj + ".$O." + ContentBucket + ".M.*",
		"$JS.API.STREAM.MSG.GET." + obj,
		"$JS.API.CONSUMER.CREATE." + obj + ".*.$O." + ContentBucket + ".C.*",
		"$JS.API.CONSUMER.DELETE." + obj + ".*",
	}
}

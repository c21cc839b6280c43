package authority

import (
	"time"

	"github.com/nats-io/jwt/v2"

	"github.com/unit-os/unit/fleet"
)

// What each kind of user may do on the broker, as subject permissions
// in its JWT. A subject a list does not name is refused by the broker
// (a "permissions violation" on the client), JetStream's API included:
// each JetStream call is a request on a subject under $JS.API, so a
// permission on the subject is a permission on the call.

// ReaderPermissions are a reader's (an operator who looks), whose user
// key is pub: fan-out requests (the nodes decide what a reader may ask,
// rpc.go) with replies to its own inbox (fleet.OperatorInbox(pub): not
// another operator's, where an admin's answers go, desired state and
// logs among them), and reading the status bucket (one watch, or a
// get), and reading the content store, as a node may (a builder that
// fetches pinned .debs from it: `unit-fleet content get`). It may not
// read or write desired state, nor write the content store.
func ReaderPermissions(pub string) jwt.Permissions {
	status := fleet.KVStream(fleet.StatusBucket)
	pubs := jwt.StringList{
		fleet.RPCSubject,
		"$JS.API.STREAM.INFO." + status,
		"$JS.API.CONSUMER.CREATE." + status + ".*." + fleet.KVSubject(fleet.StatusBucket, ">"),
		"$JS.API.CONSUMER.DELETE." + status + ".*",
		"$JS.API.DIRECT.GET." + status + ".>",
		"$JS.API.STREAM.MSG.GET." + status,
	}
	return jwt.Permissions{
		Pub:  jwt.Permission{Allow: append(pubs, fleet.ContentReads()...)},
		Sub:  jwt.Permission{Allow: jwt.StringList{fleet.OperatorInbox(pub) + ".>"}},
		Resp: &jwt.ResponsePermission{MaxMsgs: 1, Expires: time.Minute},
	}
}

// ServicePermissions are the enrolment service's: take fleet.EnrollSubject's
// requests and answer each once.
func ServicePermissions() jwt.Permissions {
	return jwt.Permissions{
		Sub:  jwt.Permission{Allow: jwt.StringList{fleet.EnrollSubject}},
		Resp: &jwt.ResponsePermission{MaxMsgs: 1, Expires: time.Minute},
	}
}

// enrollPermissions are a token's bearer's: ask fleet.EnrollSubject and hear
// the answer, nothing else; in particular not subscribe fleet.EnrollSubject,
// where other nodes' token secrets go.
func enrollPermissions(tokenID string) jwt.Permissions {
	return jwt.Permissions{
		Pub: jwt.Permission{Allow: jwt.StringList{fleet.EnrollSubject}},
		Sub: jwt.Permission{Allow: jwt.StringList{fleet.EnrollInbox(tokenID) + ".>"}},
	}
}

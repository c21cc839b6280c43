package fleet

import (
	"encoding/json"
	"time"
)

// Fan-out on the wire: an operator's request to every matching node
// (RPCSubject) and each node's reply.

// Request is one fan-out: the command for every node whose facts match
// Where (all of them; empty matches every node). ID, Time, JWT and Sig
// are the signature (sign.go).
type Request struct {
	Where  map[string]string `json:"where,omitempty"`
	Cmd    string            `json:"cmd"`
	Name   string            `json:"name,omitempty"`  // a service (start, stop, restart, logs)
	Lines  int               `json:"lines,omitempty"` // logs
	DryRun bool              `json:"dry_run,omitempty"`
	// Resource is an ad-hoc resource (cmd resource): KIND NAME KEY=VALUE...
	Resource string `json:"resource,omitempty"`
	// Update: Content names the bundle in ContentBucket (sha256-HEX of
	// its bytes), SHA256 is its id (the pin unit update checks), and
	// NoReboot leaves the reboot to a later request.
	Content  string    `json:"content,omitempty"`
	SHA256   string    `json:"sha256,omitempty"`
	NoReboot bool      `json:"no_reboot,omitempty"`
	ID       string    `json:"id,omitempty"`
	Time     time.Time `json:"time,omitzero"`
	JWT      string    `json:"jwt,omitempty"`
	Sig      string    `json:"sig,omitempty"`
}

// Reply is one node's answer. Req, JWT and Sig are the node's
// signature (sign.go): the id of the request answered, the node's JWT,
// and its key's signature over the rest.
type Reply struct {
	Node  string            `json:"node"`
	Facts map[string]string `json:"facts,omitempty"`
	Data  []json.RawMessage `json:"data,omitempty"`
	Error string            `json:"error,omitempty"`
	Req   string            `json:"req,omitempty"`
	JWT   string            `json:"jwt,omitempty"`
	Sig   string            `json:"sig,omitempty"`
}

// Matches says whether facts satisfy every condition of where.
func Matches(facts, where map[string]string) bool {
	for k, v := range where {
		if facts[k] != v {
			return false
		}
	}
	return true
}

package fleet

import "encoding/hex"

// Content by hash: update bundles (and whatever else nodes fetch whole)
// live in the object store ContentBucket under the name
// sha256-<hex of the content>, so a name is a promise a node checks
// (agent.FetchContent); an operator puts them (operator.PutContent).

// ContentBucket is the object store of content by hash.
const ContentBucket = "unit-content"

// ContentName is the name of content whose SHA-256 is sum.
func ContentName(sum []byte) string { return "sha256-" + hex.EncodeToString(sum) }

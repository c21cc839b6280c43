package pkgbuild

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// BuilderVersion names the way this code builds. Bump it when a change
// here (sandbox layout, environment, builder steps, keg normalization)
// can change what a build produces: every keg hash changes with it.
const BuilderVersion = "unit-pkgbuild/3"

// hashInput is everything a keg's hash covers. It is JSON-encoded: struct
// fields in a fixed order and map keys sorted, so the same inputs always
// give the same bytes.
type hashInput struct {
	Builder string            `json:"builder"`
	Recipe  *Recipe           `json:"recipe"`
	Version string            `json:"version"` // resolved
	Sources []SourceID        `json:"sources"`
	Deps    map[string]string `json:"deps"` // every dep (build and runtime): name → keg hash
	// Toolchain identifies the host toolchain, for recipes that run steps.
	Toolchain string `json:"toolchain,omitempty"`
}

// kegHash is the hex digest naming a keg (128 bits: collision-safe for a
// store, short enough for a path).
func kegHash(in hashInput) (string, error) { return hashJSON(in) }

// hashJSON hashes the JSON encoding of in the way kegHash does.
func hashJSON(in any) (string, error) {
	data, err := json.Marshal(in)
	if err != nil {
		return "", fmt.Errorf("hash: %w", err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16]), nil
}

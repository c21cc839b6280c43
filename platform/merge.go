package platform

import (
	"encoding/json"
	"fmt"
	"maps"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/safepath"
)

// MergeFacts merges facts (IMDS's) into the platform facts file at path
// (FactsPath), which PID 1's engine watches: a change reloads the
// config, so templates see the new facts.
//
// A seed wins: the file's facts were put there at boot from the
// machine's own NoCloud seed, the more specific, local word, so a key
// already there keeps its value and facts only add keys. Unless the file
// came from the same source (its seed equals facts' seed: this agent's
// earlier fetch, before a restart); then facts replace it whole, and a tag
// changed or removed since is not kept. With a seed, keys an earlier
// fetch added stay as they were until the next boot (/run is a tmpfs).
//
// The file is written atomically (mode 0644: facts are no
// secret) and only when its facts change; changed says whether it was.
func MergeFacts(path string, facts map[string]string) (changed bool, err error) {
	for k, v := range facts {
		if !config.IsName(k) {
			return false, fmt.Errorf("merge platform facts: %q is not a fact name", k)
		}
		if err := CheckValue(v); err != nil {
			return false, fmt.Errorf("merge platform facts: %s: %w", k, err)
		}
	}
	old, err := ReadFacts(path)
	if err != nil {
		// A file we cannot read is not overwritten: it may hold a seed's facts.
		return false, fmt.Errorf("merge platform facts: %w", err)
	}
	merged := maps.Clone(facts)
	if merged == nil {
		merged = map[string]string{}
	}
	if old["seed"] == "" || old["seed"] != facts["seed"] {
		maps.Copy(merged, old)
	}
	if maps.Equal(merged, old) {
		return false, nil
	}
	b, err := json.Marshal(merged)
	if err != nil {
		return false, fmt.Errorf("merge platform facts: %w", err)
	}
	// The writer's own ids: root's, like PID 1's, in the agent.
	if err := safepath.WriteFile(path, b, 0o644, -1, -1); err != nil {
		return false, fmt.Errorf("merge platform facts: %w", err)
	}
	return true, nil
}

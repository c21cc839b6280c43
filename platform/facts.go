package cm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Platform facts are what the machine's platform says about it: a NoCloud
// seed's meta-data, read by PID 1 at boot, and the cloud's instance
// metadata (IMDSv2), fetched by the fleet agent once the network is up.
// Both land in one flat JSON object of names to strings, which templates
// see as .facts.platform.NAME.

// StateDir is the daemon's state directory as PID 1, and `unit run`'s
// default as root (--state moves it).
const StateDir = "/run/unit"

// PlatformFactsPath is where the platform's facts are left: in the
// daemon's state directory (StateDir as PID 1), so that `unit run
// --state DIR`, its engine, `unit facts --state DIR` and the fleet agent
// it runs (UNIT_STATE) read one file.
func PlatformFactsPath(stateDir string) string { return filepath.Join(stateDir, "platform.json") }

// FleetTokenPath is where PID 1 leaves a seed's fleet_token: a one-time
// provisioning secret for the fleet agent, readable by root only. It is
// never a fact: platform.json is world-readable and templates render it.
const FleetTokenPath = "/run/unit/fleet.token"

// maxPlatformFacts bounds what is read of a platform facts file.
const maxPlatformFacts = 1 << 20

// ReadPlatformFacts reads a platform facts file. A missing file is no
// facts, not an error: most machines have no seed.
func ReadPlatformFacts(path string) (map[string]string, error) {
	facts := map[string]string{}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return facts, nil
	}
	if err != nil {
		return nil, fmt.Errorf("platform facts: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPlatformFacts+1))
	if err != nil {
		return nil, fmt.Errorf("platform facts %s: %w", path, err)
	}
	if len(b) > maxPlatformFacts {
		return nil, fmt.Errorf("platform facts %s: more than %d bytes", path, maxPlatformFacts)
	}
	if err := json.Unmarshal(b, &facts); err != nil {
		return nil, fmt.Errorf("platform facts %s: %w", path, err)
	}
	return facts, nil
}

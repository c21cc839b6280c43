// Package platform reads what the machine's platform says about it: a
// NoCloud seed's meta-data, read by PID 1 at boot, and the cloud's
// instance metadata (IMDSv2), fetched by the fleet agent once the network
// is up. Both land in one flat JSON object of names to strings, the
// platform facts file, which templates see as .facts.platform.NAME.
//
// It imports only config (what a fact's name may be) and safepath; PID 1, the engine
// (cm) and the fleet agent import it. It writes through safepath's
// atomic writer.
package platform

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FactsPath is where the platform's facts are left: in the daemon's
// state directory (/run/unit as PID 1), so that `unit run --state DIR`,
// its engine, `unit facts --state DIR` and the fleet agent it runs
// (UNIT_STATE) read one file.
func FactsPath(stateDir string) string { return filepath.Join(stateDir, "platform.json") }

// FleetTokenPath is where PID 1 leaves a seed's fleet_token: a one-time
// provisioning secret for the fleet agent, readable by root only. It is
// never a fact: platform.json is world-readable and templates render it.
const FleetTokenPath = "/run/unit/fleet.token"

// maxFacts bounds what is read of a platform facts file.
const maxFacts = 1 << 20

// maxValue bounds a fact's value; a longer IMDS tag is skipped.
const maxValue = 1 << 10

// ReadFacts reads a platform facts file. A missing file is no facts, not
// an error: most machines have no seed.
func ReadFacts(path string) (map[string]string, error) {
	facts := map[string]string{}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return facts, nil
	}
	if err != nil {
		return nil, fmt.Errorf("platform facts: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFacts+1))
	if err != nil {
		return nil, fmt.Errorf("platform facts %s: %w", path, err)
	}
	if len(b) > maxFacts {
		return nil, fmt.Errorf("platform facts %s: more than %d bytes", path, maxFacts)
	}
	if err := json.Unmarshal(b, &facts); err != nil {
		return nil, fmt.Errorf("platform facts %s: %w", path, err)
	}
	return facts, nil
}

// CheckValue accepts a fact's value: one line of at most 1 KiB of UTF-8
// without control characters or line separators, which would forge lines
// on the console and in rendered files.
func CheckValue(v string) error {
	if len(v) > maxValue {
		return fmt.Errorf("%d bytes; at most %d", len(v), maxValue)
	}
	if !utf8.ValidString(v) {
		return errors.New("not UTF-8")
	}
	if i := strings.IndexFunc(v, func(r rune) bool {
		return unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp)
	}); i >= 0 {
		return fmt.Errorf("control character at byte %d", i)
	}
	return nil
}

package pid1

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/cm"
	"github.com/unit-os/unit/disk"
	"github.com/unit-os/unit/kmod"
)

// seedMount is where a seed is mounted while it is read.
const seedMount = "/run/unit/seed"

// platformFacts reads the NoCloud seed, if the machine has one, into
// cm.PlatformFactsPath(cm.StateDir) (/run/unit/platform.json), where `unit facts` and
// templates find it, and its fleet token into cm.FleetTokenPath. A
// machine without one has no platform facts; a seed that cannot be read
// is said on the console and left out.
func platformFacts(log *slog.Logger, b disk.Devices) (map[string]string, error) {
	dev, fstype, err := findSeed(b)
	if err != nil || dev == "" {
		return nil, err
	}
	if l, err := kmod.NewLoader(""); err == nil {
		for _, m := range disk.SeedModules {
			if _, err := l.Load(m); err != nil {
				log.Debug("seed module", "module", m, "err", err)
			}
		}
	}
	if err := os.MkdirAll(seedMount, 0o700); err != nil {
		return nil, err
	}
	if err := unix.Mount(dev, seedMount, fstype, unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return nil, fmt.Errorf("seed %s (%s): mount: %w", dev, fstype, err)
	}
	defer unix.Unmount(seedMount, unix.MNT_DETACH)
	b2, err := readSeedFile(seedMount, seedMetaData)
	if err != nil {
		return nil, fmt.Errorf("seed %s: %w", dev, err)
	}
	facts, err := parseMetaData(b2)
	if err != nil {
		return nil, fmt.Errorf("seed %s: %w", dev, err)
	}
	facts["seed"] = "nocloud"
	_, token := facts[fleetTokenKey]
	if err := keepSeed(facts, cm.PlatformFactsPath(cm.StateDir), cm.FleetTokenPath); err != nil {
		return nil, fmt.Errorf("seed %s: %w", dev, err)
	}
	if token {
		log.Info("seed: fleet token kept for the fleet agent", "path", cm.FleetTokenPath)
	}
	return facts, nil
}

// fleetTokenKey is a seed's one-time provisioning token for the fleet
// agent (meta-data `fleet-token:` or `fleet_token:`). It is a secret, so
// never a fact: platform.json is world-readable, the facts are printed on
// the console, and templates render them into files.
const fleetTokenKey = "fleet_token"

// keepSeed takes the fleet token out of a seed's facts into tokenPath
// (0600) and writes the rest to factsPath (0644), each atomically, the
// token first, so the agent that reads the facts finds it. Both are PID
// 1's own, root's, files.
func keepSeed(facts map[string]string, factsPath, tokenPath string) error {
	var tokenErr error
	if token, ok := facts[fleetTokenKey]; ok {
		delete(facts, fleetTokenKey)
		if err := cm.WriteFileAtomic(tokenPath, []byte(token), 0o600, -1, -1); err != nil {
			tokenErr = fmt.Errorf("fleet token: %w", err)
		}
	}
	// The facts even without the token: the machine's identity does not
	// depend on the fleet.
	j, err := json.Marshal(facts)
	if err == nil {
		err = cm.WriteFileAtomic(factsPath, j, 0o644, -1, -1)
	}
	if err != nil {
		err = fmt.Errorf("platform facts: %w", err)
	}
	return errors.Join(tokenErr, err)
}

// readSeedFile reads a regular file of the seed (never through a link:
// the seed is anybody's disk), case-insensitively as ISO 9660 and FAT
// may have it.
func readSeedFile(dir, name string) ([]byte, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, de := range des {
		if !strings.EqualFold(de.Name(), name) && !strings.EqualFold(de.Name(), name+".;1") {
			continue
		}
		if de.Type()&fs.ModeType != 0 {
			return nil, fmt.Errorf("%s is not a regular file", de.Name())
		}
		f, err := os.OpenFile(filepath.Join(dir, de.Name()), os.O_RDONLY|unix.O_NOFOLLOW, 0)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		// One byte past the limit, so parseMetaData can refuse it.
		return io.ReadAll(io.LimitReader(f, 64<<10+1))
	}
	return nil, fmt.Errorf("no %s", name)
}

// findSeed looks at every disk and partition for a volume labelled
// cidata; two are an error (which is the machine's?).
func findSeed(b disk.Devices) (dev, fstype string, err error) {
	names, _ := os.ReadDir(b.Sys)
	var candidates []string
	for _, d := range names {
		candidates = append(candidates, d.Name())
		subs, _ := os.ReadDir(filepath.Join(b.Sys, d.Name()))
		for _, s := range subs {
			if _, err := os.Stat(filepath.Join(b.Sys, d.Name(), s.Name(), "partition")); err == nil {
				candidates = append(candidates, s.Name())
			}
		}
	}
	sort.Strings(candidates)
	var found []string
	for _, name := range candidates {
		if strings.HasPrefix(name, "loop") || strings.HasPrefix(name, "ram") {
			continue
		}
		f, err := b.Open(filepath.Join(b.Dev, name))
		if err != nil {
			continue
		}
		t, label, ok := fsLabel(f)
		f.Close()
		if ok && strings.EqualFold(label, seedLabel) {
			found = append(found, filepath.Join(b.Dev, name))
			dev, fstype = filepath.Join(b.Dev, name), t
		}
	}
	if len(found) > 1 {
		return "", "", errors.New("two volumes labelled cidata: " + strings.Join(found, " and ") + "; taking neither")
	}
	return dev, fstype, nil
}

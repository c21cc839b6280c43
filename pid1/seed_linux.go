package pid1

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/cm"
	"github.com/unit-os/unit/disk"
	"github.com/unit-os/unit/kmod"
	"github.com/unit-os/unit/platform"
)

// seedMount is where a seed is mounted while it is read.
const seedMount = "/run/unit/seed"

// platformFacts mounts the NoCloud seed, if the machine has one, and
// reads it (package platform, which owns the format) into
// platform.FactsPath(cm.StateDir) (/run/unit/platform.json), where `unit
// facts` and templates find it, and its fleet token into
// platform.FleetTokenPath. A machine without one has no platform facts; a
// seed that cannot be read is said on the console and left out.
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
	facts, err := platform.ReadSeed(seedMount)
	if err != nil {
		return nil, fmt.Errorf("seed %s: %w", dev, err)
	}
	_, token := facts[platform.FleetTokenKey]
	if err := platform.KeepSeed(facts, platform.FactsPath(cm.StateDir), platform.FleetTokenPath); err != nil {
		return nil, fmt.Errorf("seed %s: %w", dev, err)
	}
	if token {
		log.Info("seed: fleet token kept for the fleet agent", "path", platform.FleetTokenPath)
	}
	return facts, nil
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
		t, label, ok := platform.FSLabel(f)
		f.Close()
		if ok && strings.EqualFold(label, platform.SeedLabel) {
			found = append(found, filepath.Join(b.Dev, name))
			dev, fstype = filepath.Join(b.Dev, name), t
		}
	}
	if len(found) > 1 {
		return "", "", errors.New("two volumes labelled cidata: " + strings.Join(found, " and ") + "; taking neither")
	}
	return dev, fstype, nil
}

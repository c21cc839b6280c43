package platform

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/safepath"
)

// A NoCloud seed, as cloud-init reads it: a volume labelled "cidata"
// (ISO 9660 from cloud-localds or genisoimage, or FAT) whose meta-data
// file says who this machine is. One base image, many machines: each gets
// its identity and facts (role = web, dc = ams) from its platform, and
// templates see them as .facts.platform.NAME.

// SeedLabel is the volume label of a NoCloud seed (any case).
const SeedLabel = "cidata"

// seedMetaData is what is read from a seed: meta-data gives the facts.
const seedMetaData = "meta-data"

// FSLabel reads the file system type and volume label of a block device
// or image: ISO 9660 (primary volume descriptor at 32 KiB) or FAT12/16/32
// (boot sector). ok is false for anything else.
func FSLabel(r io.ReaderAt) (fstype, label string, ok bool) {
	pvd := make([]byte, 2048)
	if _, err := r.ReadAt(pvd, 16*2048); err == nil && pvd[0] == 1 && string(pvd[1:6]) == "CD001" {
		return "iso9660", strings.TrimRight(string(pvd[40:72]), " \x00"), true
	}
	bs := make([]byte, 512)
	if _, err := r.ReadAt(bs, 0); err != nil || bs[510] != 0x55 || bs[511] != 0xAA {
		return "", "", false
	}
	bytesPerSector := binary.LittleEndian.Uint16(bs[11:])
	if bytesPerSector < 512 || bytesPerSector > 4096 || bytesPerSector&(bytesPerSector-1) != 0 || bs[13] == 0 {
		return "", "", false
	}
	// FAT32 has its extended boot record further down than FAT12/16.
	if string(bs[82:90]) == "FAT32   " && bs[66] == 0x29 {
		return "vfat", strings.TrimRight(string(bs[71:82]), " \x00"), true
	}
	if strings.HasPrefix(string(bs[54:62]), "FAT1") && bs[38] == 0x29 {
		return "vfat", strings.TrimRight(string(bs[43:54]), " \x00"), true
	}
	return "", "", false
}

// parseMetaData reads NoCloud meta-data: YAML, of which unit takes the
// flat `key: value` lines (instance-id, local-hostname, and whatever the
// platform adds: role, dc). Keys become fact names with - made _; a
// nested or list value is an error that names its line, so a seed unit
// cannot read is not half used.
func parseMetaData(b []byte) (map[string]string, error) {
	if len(b) > 64<<10 {
		return nil, fmt.Errorf("meta-data: %d bytes; at most 64 KiB taken", len(b))
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), " \t\r")
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") || t == "---" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' || line[0] == '-' {
			return nil, fmt.Errorf("meta-data:%d: %q: only flat `key: value` lines are read", n, line)
		}
		k, v, ok := strings.Cut(line, ":")
		k = strings.TrimSpace(k)
		v = strings.TrimSpace(v)
		if !ok || !config.IsName(k) {
			return nil, fmt.Errorf("meta-data:%d: %q: expected `key: value` with a key of letters, digits, - and _", n, line)
		}
		if v == "" || v == "|" || v == ">" || strings.HasPrefix(v, "{") || strings.HasPrefix(v, "[") {
			return nil, fmt.Errorf("meta-data:%d: %s: only plain values are read", n, k)
		}
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		} else if i := strings.Index(v, " #"); i >= 0 {
			v = strings.TrimSpace(v[:i])
		}
		out[strings.ReplaceAll(k, "-", "_")] = v
	}
	return out, sc.Err()
}

// ReadSeed reads the facts of a NoCloud seed mounted at dir: its
// meta-data, and seed = nocloud.
func ReadSeed(dir string) (map[string]string, error) {
	b, err := readSeedFile(dir, seedMetaData)
	if err != nil {
		return nil, err
	}
	facts, err := parseMetaData(b)
	if err != nil {
		return nil, err
	}
	facts["seed"] = "nocloud"
	return facts, nil
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

// FleetTokenKey is a seed's one-time provisioning token for the fleet
// agent (meta-data `fleet-token:` or `fleet_token:`). It is a secret, so
// never a fact: platform.json is world-readable, the facts are printed on
// the console, and templates render them into files.
const FleetTokenKey = "fleet_token"

// KeepSeed takes the fleet token out of a seed's facts into tokenPath
// (0600) and writes the rest to factsPath (0644), each atomically, the
// token first, so the agent that reads the facts finds it.
// Both are PID 1's own, root's, files.
func KeepSeed(facts map[string]string, factsPath, tokenPath string) error {
	var tokenErr error
	if token, ok := facts[FleetTokenKey]; ok {
		delete(facts, FleetTokenKey)
		if err := safepath.WriteFile(tokenPath, []byte(token), 0o600, -1, -1); err != nil {
			tokenErr = fmt.Errorf("fleet token: %w", err)
		}
	}
	// The facts even without the token: the machine's identity does not
	// depend on the fleet.
	j, err := json.Marshal(facts)
	if err == nil {
		err = safepath.WriteFile(factsPath, j, 0o644, -1, -1)
	}
	if err != nil {
		err = fmt.Errorf("platform facts: %w", err)
	}
	return errors.Join(tokenErr, err)
}

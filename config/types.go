// Package config loads and validates unit's TOML configuration: every *.toml
// in a directory, merged in name order, with file:line on every error.
package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config is one whole, validated configuration.
type Config struct {
	System   System
	Services map[string]*Service
	Files    map[string]*File
	Nets     map[string]*Net // [net.NAME]: interfaces to bring up (net.go)
	// Configuration-management kinds beyond files (kinds.go has the table).
	Kinds
	CM      CM
	Metrics Metrics
	Web     Web
	Fleet   Fleet
	// Sources lists the files it was loaded from, in merge order.
	Sources []string
	// Notes are what the services' unit files declare that unit does not
	// honour (Loader.Declared), for the image builder to list.
	Notes []Note

	// rank is the layer being loaded; ranks, each table's that is not a
	// resource ([system]: a resource keeps its own, Meta.rank), so a
	// higher layer replaces it.
	rank  int
	ranks map[string]int
	// declared is Loader.Declared while loading.
	declared func(name string) (*Service, []Note, error)
}

// System holds the [system] table.
type System struct {
	Hostname string   `toml:"hostname"`
	Modules  []string `toml:"modules"`
	Packages []string `toml:"packages"`
	// Include and Exclude are guest path globs (path.Match, and a pattern
	// that matches a directory takes what is below it) applied to the
	// files of Debian packages: Include adds files the runtime closure
	// does not find (data a program opens by name, locales); Exclude
	// leaves files out even when something needs them (a JIT plugin that
	// drags in a compiler). Exclude wins.
	Include []string `toml:"include"`
	Exclude []string `toml:"exclude"`
	// Console = "shell" adds service.console: a login shell on the
	// console, restarted when it exits (development images; off by
	// default).
	Console string `toml:"console"`
	// ControlGroup is a group whose members may use the read-only
	// commands (status, logs, events) on the control socket; root only
	// when unset.
	ControlGroup string `toml:"control_group"`
	// Hardware is the image's profile: "vm" (default: the cloud kernel,
	// virtio only) or "metal" (the generic kernel and the drivers real
	// machines need, loaded by modalias).
	Hardware string `toml:"hardware"`
	// Data is the persistent data partition of a disk image, if any.
	Data *DataPartition `toml:"data"`
	// SlotSize is each root slot's partition in a disk image (two slots:
	// one runs, an update goes to the other); default twice the root, at
	// least 128M. A later update's root must fit.
	SlotSize Size `toml:"slot_size"`
	// Trial bounds an update's first boot: unless every service is ready
	// and every check passes within it, the machine goes back to the
	// image it came from (default 5m).
	Trial Duration `toml:"trial"`
	// Compression is how hard the image is packed: "fast" (default: zstd
	// at a low level, for development) or "release" (the strongest: the
	// smallest image, seconds more per changed part).
	Compression string `toml:"compression"`
	Pos         Pos    `toml:"-"`
}

// DataPartition is [system] data = { size = "256M", mount = "/var" }: an
// ext4 partition found by its label at boot and kept across re-images.
type DataPartition struct {
	Size  Size   `toml:"size"`
	Mount string `toml:"mount"` // default /var
	Label string `toml:"label"` // default unit-data
}

// MountPoint is where the data partition is mounted (default /var).
func (d *DataPartition) MountPoint() string {
	if d.Mount == "" {
		return "/var"
	}
	return d.Mount
}

// FSLabel is the ext4 label the partition is found by (default unit-data).
func (d *DataPartition) FSLabel() string {
	if d.Label == "" {
		return "unit-data"
	}
	return d.Label
}

// Duration is a time.Duration written as "10s", "1m30s".
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if n, nerr := strconv.ParseUint(string(b), 10, 32); nerr == nil {
		v, err = time.Duration(n)*time.Second, nil // a bare number is seconds, as in systemd
	}
	if err != nil {
		return fmt.Errorf("invalid duration %q (want e.g. \"10s\", \"1m30s\")", b)
	}
	if v < 0 {
		return fmt.Errorf("negative duration %q", b)
	}
	d.Duration = v
	return nil
}

// Size is a byte count written as 1024, "64K", "64M", "1G".
type Size int64

// UnmarshalText parses a size with an optional K/M/G/T suffix (powers of 1024).
func (s *Size) UnmarshalText(b []byte) error {
	str := strings.TrimSpace(string(b))
	mult := int64(1)
	if n := len(str); n > 0 {
		switch strings.ToUpper(str[n-1:]) {
		case "K":
			mult = 1 << 10
		case "M":
			mult = 1 << 20
		case "G":
			mult = 1 << 30
		case "T":
			mult = 1 << 40
		}
		if mult != 1 {
			str = str[:n-1]
		}
	}
	v, err := strconv.ParseInt(str, 10, 64)
	if err != nil || v < 0 {
		return fmt.Errorf("invalid size %q (want e.g. 1048576, \"64M\", \"1G\")", b)
	}
	*s = Size(v * mult)
	return nil
}

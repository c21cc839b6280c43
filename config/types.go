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

	// rank is the layer being loaded; ranks, each definition's (by
	// "kind:name", or "[table]"), so a higher layer replaces it.
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
	Pos   Pos      `toml:"-"`
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

// Service is one [service.NAME] table.
type Service struct {
	Meta
	// execAt is the line of exec, kept past loading (which drops the
	// per-key lines) for the image builder's errors about the program.
	execAt Pos
	// undeclared: Loader.Declared looked for a unit file and found none.
	undeclared   bool
	Exec         []string          `toml:"exec"`
	Env          map[string]string `toml:"env"`
	User         string            `toml:"user"`
	Group        string            `toml:"group"`
	Dir          string            `toml:"dir"`
	Requires     []string          `toml:"requires"`
	Restart      string            `toml:"restart"`
	Ready        string            `toml:"ready"`
	ReadyTimeout Duration          `toml:"ready_timeout"`
	Enabled      *bool             `toml:"enabled"`
	StopSignal   string            `toml:"stop_signal"`
	StopTimeout  Duration          `toml:"stop_timeout"`
	Limits       Limits            `toml:"limits"`

	// Oneshot: runs to completion; dependents start once it exited 0.
	Oneshot bool `toml:"oneshot"`
	// TTY is a terminal for the service's stdin, stdout and stderr, made
	// its controlling terminal in a new session (a shell or getty on a
	// console); "console" is the kernel's console device. Output then goes
	// to the terminal, not to the log.
	TTY string `toml:"tty"`
	// Watchdog: with sd_notify, a service that sends no WATCHDOG=1 for this
	// long is killed and handled like a crash (systemd's WatchdogSec).
	Watchdog Duration `toml:"watchdog"`

	// Credentials beyond user and group (checked in service_ext.go and
	// service_caps.go).
	Groups       []string         `toml:"groups"`       // supplementary groups
	NoNewPrivs   bool             `toml:"no_new_privs"` // PR_SET_NO_NEW_PRIVS
	Capabilities []string         `toml:"capabilities"` // ambient, e.g. CAP_NET_BIND_SERVICE
	Rlimits      map[string]int64 `toml:"rlimits"`      // e.g. { nofile = 1024 }; -1 = unlimited
	Umask        string           `toml:"umask"`        // octal, e.g. "0027"
	EnvFiles     []string         `toml:"env_files"`    // KEY=VALUE files; "-/path" may be missing

	// Log keeps the output in rotated files too (like s6-log).
	Log LogFiles `toml:"log"`

	// Health is a check run every HealthInterval while the service runs:
	// http:PORT/PATH, tcp:PORT or exec:CMD. HealthRetries failures in a row
	// restart the service.
	Health         string   `toml:"health"`
	HealthInterval Duration `toml:"health_interval"`
	HealthTimeout  Duration `toml:"health_timeout"`
	HealthRetries  int      `toml:"health_retries"`

	// What a systemd unit file declares beyond exec (docs/debian.md).
	// The image builder fills these from a package's NAME.service when
	// the system TOML gives no exec; a system TOML may set them itself.
	//
	// ExecPre, ExecPost and ExecStopPost run before the service starts,
	// once it is started, and after it stopped (ExecStartPre=,
	// ExecStartPost=, ExecStopPost=). The first word keeps systemd's
	// prefixes: "-" lets the command fail, "+" runs it as root whatever
	// user the service runs as.
	ExecPre      [][]string `toml:"exec_pre"`
	ExecPost     [][]string `toml:"exec_post"`
	ExecStopPost [][]string `toml:"exec_stop_post"`
	// Expand replaces $VAR and ${VAR} in exec and the Exec* commands from
	// the service's environment when it starts, as systemd does: ${VAR}
	// stays one word, $VAR alone as a word splits on white space.
	Expand bool `toml:"expand"`
	// PIDFile, with ready = "forking": the service forks, the parent exits
	// 0 and the main process is the pid written here (Type=forking).
	PIDFile string `toml:"pid_file"`
	// RemainAfterExit keeps a oneshot "running" after it exited 0.
	RemainAfterExit bool `toml:"remain_after_exit"`
	// KillMode is who gets stop_signal: "control-group" (every process of
	// the service, the default), "mixed" (the main process; SIGKILL to the
	// rest at the end), "process" (the main process only).
	KillMode string `toml:"kill_mode"`
	// Dirs are the directories the service owns, made before it starts,
	// owned by its user and group (RuntimeDirectory= and its siblings).
	Dirs ServiceDirs `toml:"dirs"`

	// After holds what requires names of other kinds (e.g. "net:eth0"):
	// the engine converges those before the service resource, and the first
	// convergence ends before any service starts. Requires keeps only
	// services: the supervisor waits on nothing else.
	After []string `toml:"-"`
}

// ServiceDirs are names relative to /run, /var/lib, /var/cache and
// /var/log, each with the mode its directories get ("0755" when unset).
type ServiceDirs struct {
	Runtime     []string `toml:"runtime"`
	RuntimeMode string   `toml:"runtime_mode"`
	State       []string `toml:"state"`
	StateMode   string   `toml:"state_mode"`
	Cache       []string `toml:"cache"`
	CacheMode   string   `toml:"cache_mode"`
	Logs        []string `toml:"logs"`
	LogsMode    string   `toml:"logs_mode"`
}

// Limits are per-service cgroup limits (applied in PID 1 mode).
type Limits struct {
	Memory    Size  `toml:"memory"`
	Pids      int64 `toml:"pids"`
	CPUWeight int64 `toml:"cpu_weight"`
	IOWeight  int64 `toml:"io_weight"`
}

// File is one [file."PATH"] table.
type File struct {
	Meta
	Edges
	Content *string `toml:"content"`
	Source  string  `toml:"source"`
	Mode    string  `toml:"mode"`
	Owner   string  `toml:"owner"`
	Group   string  `toml:"group"`
	Ensure  string  `toml:"ensure"`
	// Template is text/template source rendered with Vars and the facts.
	Template *string        `toml:"template"`
	Vars     map[string]any `toml:"vars"`

	// FileMode is Mode parsed; 0644 when unset.
	FileMode uint32 `toml:"-"`
}

// Restart policies.
const (
	RestartAlways    = "always"
	RestartOnFailure = "on-failure"
	RestartNever     = "never"
)

// IsEnabled reports whether the service starts at boot (the default).
func (s *Service) IsEnabled() bool { return s.Enabled == nil || *s.Enabled }

// ExecPos is where exec is written (the table's line if not known).
func (s *Service) ExecPos() Pos {
	if s.execAt.File != "" {
		return s.execAt
	}
	return s.Pos
}

// edgeList: a service's edges are its requires, services and the other
// kinds it converges after.
func (s *Service) edgeList() (requires, notify []string) {
	if len(s.After) == 0 {
		return s.Requires, nil
	}
	return append(append([]string{}, s.Requires...), s.After...), nil
}

// Absent reports whether the file must not exist.
func (f *File) Absent() bool { return f.Ensure == "absent" }

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

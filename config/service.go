package config

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
)

// Service is one [service.NAME] table.
type Service struct {
	Meta
	// execAt is the line of exec, kept past loading (which drops the
	// per-key lines) for the image builder's errors about the program.
	execAt Pos
	// undeclared: Loader.Declared looked for a unit file and found none.
	undeclared bool
	// Exec is the main command; its first word may carry systemd's
	// prefixes but "-" (Prefixes): "!" runs it as root while dirs stay
	// the user's, as ExecStart=! does.
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
	// http:PORT/PATH, tcp:PORT, exec:CMD or check:NAME (spec.go).
	// HealthRetries failures in a row restart the service.
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
	// prefixes (Prefixes): "-" lets the command fail, "+" runs it as root
	// outside the service's namespace, "!" as root inside it, "@" takes
	// the second word as argv[0], ":" expands no $VAR.
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

	// A mount namespace of the service's own (service_ns.go), systemd's
	// PrivateTmp=, ProtectSystem=, ProtectHome=, ReadWritePaths=,
	// ReadOnlyPaths=, InaccessiblePaths=, BindPaths= and
	// BindReadOnlyPaths=.
	PrivateTmp        bool     `toml:"private_tmp"`
	ProtectSystem     string   `toml:"protect_system"` // yes | full | strict | no
	ProtectHome       string   `toml:"protect_home"`   // yes | read-only | tmpfs | no
	ReadWritePaths    []string `toml:"read_write_paths"`
	ReadOnlyPaths     []string `toml:"read_only_paths"`
	InaccessiblePaths []string `toml:"inaccessible_paths"`
	BindPaths         []string `toml:"bind_paths"`           // "[-]SRC[:DEST[:rbind|norbind]]"
	BindReadOnlyPaths []string `toml:"bind_read_only_paths"` // the same, read-only

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

func validateService(s *Service) Errors {
	var errs Errors
	bad := resourceComplainer(&errs, &s.Meta, "service")
	s.execAt = s.At("exec")
	if len(s.Exec) == 0 || s.Exec[0] == "" {
		msg := "exec is required: a command as a list, e.g. exec = [\"/bin/httpd\", \"-f\"]"
		if s.undeclared {
			msg += fmt.Sprintf(", and no package in the image ships %s.service", s.Name)
		}
		bad("exec", msg)
	}
	if s.Oneshot && s.Restart == "" {
		s.Restart = RestartNever // as systemd's Type=oneshot
	}
	switch s.Restart {
	case "":
		s.Restart = RestartAlways
	case RestartAlways, RestartOnFailure, RestartNever:
	default:
		bad("restart", "restart = %q: expected one of always, on-failure, never", s.Restart)
	}
	if _, err := ParseReady(s.Ready); err != nil {
		bad("ready", "ready = %q: %v", s.Ready, err)
	}
	if s.Ready == "" {
		s.Ready = "started"
	}
	if s.StopSignal != "" {
		if _, ok := Signals[strings.TrimPrefix(strings.ToUpper(s.StopSignal), "SIG")]; !ok {
			bad("stop_signal", "stop_signal = %q: expected a signal name such as SIGTERM, SIGINT, SIGQUIT, SIGHUP", s.StopSignal)
		}
	}
	if s.TTY != "" && s.TTY != "console" && (!strings.HasPrefix(s.TTY, "/dev/") || filepath.Clean(s.TTY) != s.TTY) {
		bad("tty", "tty = %q: expected a device under /dev (e.g. \"/dev/ttyS0\") or \"console\"", s.TTY)
	}
	if s.Dir != "" && !filepath.IsAbs(s.Dir) {
		bad("dir", "dir = %q: expected an absolute path", s.Dir)
	}
	if s.Limits.Pids < 0 || s.Limits.CPUWeight < 0 || s.Limits.IOWeight < 0 {
		bad("limits", "limits must not be negative")
	}
	if w := s.Limits.CPUWeight; w != 0 && (w < 1 || w > 10000) {
		bad("limits", "cpu_weight = %d: expected 1..10000", w)
	}
	if w := s.Limits.IOWeight; w != 0 && (w < 1 || w > 10000) {
		bad("limits", "io_weight = %d: expected 1..10000", w)
	}
	validateServiceExt(s, bad)
	validateServiceUnit(s, bad)
	validateServiceNS(s, bad)
	services := s.Requires[:0]
	for _, r := range s.Requires {
		switch kind, _, ok := strings.Cut(r, ":"); {
		case ok && kind != "service" && IsKind(kind):
			s.After = append(s.After, r)
		case kind == "service":
			services = append(services, r)
		default:
			// A bare name is accepted as shorthand for service:NAME.
			services = append(services, "service:"+r)
		}
	}
	s.Requires = services
	return errs
}

// serviceRefs: what a service requires is defined (services in Requires,
// other kinds in After).
func serviceRefs(c *Config, s *Service) Errors {
	var errs Errors
	for _, r := range append(append([]string{}, s.Requires...), s.After...) {
		if strings.HasPrefix(r, "check:") && c.Has(r) {
			errs = append(errs, Error{s.At("requires"), fmt.Sprintf("service %q requires %q: a check is a question, not something to start after; use ready = %q", s.Name, r, r)})
			continue
		}
		if !c.Has(r) {
			errs = append(errs, Error{s.At("requires"), fmt.Sprintf("service %q requires %q, which is not defined", s.Name, r)})
		}
	}
	for _, k := range []struct{ key, spec string }{{"health", s.Health}, {"ready", s.Ready}} {
		if sp, colon := splitSpec(k.spec); colon && sp.Kind == "check" && c.Checks[sp.Arg] == nil {
			errs = append(errs, Error{s.At(k.key), fmt.Sprintf("service %q: %s = %q: no [check.%s] is defined", s.Name, k.key, k.spec, sp.Arg)})
		}
	}
	return errs
}

// serviceCycle reports one requires-cycle between services.
func serviceCycle(c *Config) Errors {
	names := slices.Sorted(maps.Keys(c.Services))
	ids := make([]string, len(names))
	for i, name := range names {
		ids[i] = "service:" + name
	}
	cyc := FindCycle(ids, func(id string) []string {
		var next []string
		for _, r := range c.Services[strings.TrimPrefix(id, "service:")].Requires {
			dep := strings.TrimPrefix(r, "service:")
			if _, ok := c.Services[dep]; ok {
				next = append(next, "service:"+dep)
			}
		}
		return next
	})
	if cyc == nil {
		return nil
	}
	s := c.Services[strings.TrimPrefix(cyc[0], "service:")]
	return Errors{{s.At("requires"), "dependency cycle: " + strings.Join(cyc, " -> ")}}
}

package config

import (
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// LogFiles is a service's persistent log: Dir/current, rotated to
// Dir/@TIMESTAMP.s when it reaches MaxSize, keeping the newest Keep.
type LogFiles struct {
	Dir     string `toml:"dir"`
	MaxSize Size   `toml:"max_size"`
	Keep    int    `toml:"keep"`
}

// Comparable is s without what does not affect a running process (where it
// was defined, whether it starts at boot, where its log files go), for
// deciding on a restart.
func (s Service) Comparable() Service {
	s.Pos, s.keys, s.elsewhere, s.declared, s.Enabled, s.Log, s.After = Pos{}, nil, false, nil, nil, LogFiles{}, nil
	return s
}

// UmaskValue is Umask parsed (022 when unset).
func (s *Service) UmaskValue() uint32 {
	if s.Umask == "" {
		return 0o022
	}
	v, _ := strconv.ParseUint(s.Umask, 8, 32)
	return uint32(v)
}

// Defaults for the keys this file adds.
const (
	DefaultLogMaxSize     = 1 << 20
	DefaultLogKeep        = 5
	DefaultHealthInterval = 30 * time.Second
	DefaultHealthRetries  = 3
)

// validateServiceExt checks oneshot, watchdog, credentials, log and health,
// and fills in their defaults.
func validateServiceExt(s *Service, bad func(key, format string, args ...any)) {
	if s.Oneshot {
		if s.Ready != "" && s.Ready != "started" {
			bad("ready", "ready = %q: a oneshot service is ready when it exits 0; remove ready", s.Ready)
		}
		if s.Restart == RestartAlways {
			bad("restart", "restart = \"always\" would run a oneshot forever: use on-failure or never")
		}
	}
	if s.Watchdog.Duration > 0 && s.Ready != "notify" {
		bad("watchdog", "watchdog needs ready = \"notify\" (the service pings with WATCHDOG=1 on $NOTIFY_SOCKET)")
	}
	for _, c := range s.Capabilities {
		if _, ok := Capabilities[strings.ToUpper(c)]; !ok {
			bad("capabilities", "unknown capability %q (expected e.g. CAP_NET_BIND_SERVICE)", c)
		}
	}
	for name, v := range s.Rlimits {
		if _, ok := RlimitNames[name]; !ok {
			bad("rlimits", "unknown rlimit %q (expected one of %s)", name, strings.Join(slices.Sorted(maps.Keys(RlimitNames)), ", "))
		} else if v < -1 {
			bad("rlimits", "rlimits.%s = %d: expected a count, or -1 for unlimited", name, v)
		}
	}
	if s.Umask != "" {
		if v, err := strconv.ParseUint(s.Umask, 8, 32); err != nil || v > 0o777 {
			bad("umask", "umask = %q: expected an octal mask such as \"0027\"", s.Umask)
		}
	}
	for _, f := range s.EnvFiles {
		if !filepath.IsAbs(strings.TrimPrefix(f, "-")) {
			bad("env_files", "env_files: %q: expected an absolute path (prefix - if it may be missing)", f)
		}
	}
	for _, g := range s.Groups {
		if g == "" {
			bad("groups", "groups: empty group name")
		}
	}
	validateLog(&s.Log, bad)
	validateHealth(s, bad)
}

func validateLog(l *LogFiles, bad func(key, format string, args ...any)) {
	if l.Dir == "" {
		if l.MaxSize != 0 || l.Keep != 0 {
			bad("log", "log: max_size and keep need dir = \"/var/log/NAME\"")
		}
		return
	}
	if !filepath.IsAbs(l.Dir) {
		bad("log", "log.dir = %q: expected an absolute path", l.Dir)
	}
	if l.MaxSize == 0 {
		l.MaxSize = DefaultLogMaxSize
	}
	if l.MaxSize < 4096 {
		bad("log", "log.max_size = %d: expected at least 4096 bytes", l.MaxSize)
	}
	if l.Keep < 0 {
		bad("log", "log.keep = %d: expected 0 or more rotated files", l.Keep)
	}
	if l.Keep == 0 {
		l.Keep = DefaultLogKeep
	}
}

func validateHealth(s *Service, bad func(key, format string, args ...any)) {
	if s.Health == "" {
		if s.HealthInterval.Duration != 0 || s.HealthRetries != 0 || s.HealthTimeout.Duration != 0 {
			bad("health", "health_interval, health_timeout and health_retries need health = \"tcp:PORT\" (or http:PORT/PATH, exec:CMD)")
		}
		return
	}
	if _, err := ParseHealth(s.Health); err != nil {
		bad("health", "health = %q: %v", s.Health, err)
	}
	if s.HealthInterval.Duration == 0 {
		s.HealthInterval.Duration = DefaultHealthInterval
	}
	if s.HealthTimeout.Duration == 0 {
		s.HealthTimeout.Duration = min(s.HealthInterval.Duration, 5*time.Second)
	}
	if s.HealthRetries < 0 {
		bad("health_retries", "health_retries = %d: expected 1 or more", s.HealthRetries)
	}
	if s.HealthRetries == 0 {
		s.HealthRetries = DefaultHealthRetries
	}
}

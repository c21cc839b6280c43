package unitfile

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/systemd/syntax"
)

// Val is a value with the line that set it; Pos.Line is 0 if unset.
type Val[T any] struct {
	V   T
	Pos config.Pos
}

// Set is true if a key set the value.
func (v Val[T]) Set() bool { return v.Pos.Line > 0 }

// EnvFile is one EnvironmentFile= path.
type EnvFile struct {
	Path     string
	Optional bool // "-": a missing file is not an error
}

// Limit is a resource limit: Soft and Hard, syntax.Infinity-like
// Unlimited flags for "infinity".
type Limit struct {
	Soft, Hard                   uint64
	SoftUnlimited, HardUnlimited bool
}

// CapSet is one capability-list assignment: the names (upper case,
// "CAP_" included), or all but them if Invert ("~").
type CapSet struct {
	Invert bool
	Names  []string
}

// Service is the typed view of a .service unit: the keys unit can honour,
// each with its line. Lists keep each element's line. A key not here is
// in Unsupported.
type Service struct {
	Name Name

	// [Unit]
	Description                             Val[string]
	Documentation                           []Val[string]
	After, Before, Requires, Wants, BindsTo []Val[string]
	Conflicts                               []Val[string]

	// [Service]
	Type                                                           Val[string]
	ExecStart, ExecStartPre, ExecStartPost, ExecStop, ExecStopPost []Command
	ExecReload                                                     []Command
	PIDFile                                                        Val[string]
	RemainAfterExit                                                Val[bool]
	Restart                                                        Val[string]
	RestartSec                                                     Val[time.Duration]
	TimeoutStartSec, TimeoutStopSec                                Val[time.Duration]

	// systemd.exec(5)
	User, Group                                                  Val[string]
	SupplementaryGroups                                          []Val[string]
	DynamicUser                                                  Val[bool]
	WorkingDirectory, RootDirectory                              Val[string]
	Environment                                                  []Var
	EnvironmentFiles                                             []Val[EnvFile]
	RuntimeDirectory, StateDirectory                             []Val[string]
	CacheDirectory, LogsDirectory                                []Val[string]
	ConfigurationDirectory                                       []Val[string]
	RuntimeDirectoryMode, StateDirectoryMode, CacheDirectoryMode Val[fs.FileMode]
	LogsDirectoryMode, ConfigurationDirectoryMode                Val[fs.FileMode]
	RuntimeDirectoryPreserve                                     Val[string]
	LimitNOFILE                                                  Val[Limit]
	// Limits are the other Limit* keys, by name, as written.
	Limits                        map[string]Val[string]
	AmbientCapabilities           []Val[CapSet]
	CapabilityBoundingSet         []Val[CapSet]
	NoNewPrivileges, PrivateTmp   Val[bool]
	ProtectSystem, ProtectHome    Val[string]
	ReadWritePaths, ReadOnlyPaths []Val[string]
	BindPaths, BindReadOnlyPaths  []Val[string]

	// systemd.kill(5)
	KillMode, KillSignal Val[string]

	// [Install]
	WantedBy, Alias []Val[string]

	// Unsupported are the keys this view does not know, in order.
	Unsupported []Key
}

// Service is the typed view of f as the unit name (e.g. "foo@bar.service"
// for the template file foo@.service): specifiers resolve from name and
// sp. Assignments apply in order: a later one replaces a single value, a
// list grows, and an empty assignment resets a list (dependencies, as in
// systemd, cannot be reset). Every bad value is reported, at its line.
func (f *File) Service(name string, sp syntax.Specifiers) (*Service, error) {
	n, err := ParseName(name)
	if err != nil {
		return nil, err
	}
	if n.Template {
		return nil, fmt.Errorf("unit name %q is a template: instantiate it (%s@INSTANCE.%s)", name, n.Prefix, n.Suffix)
	}
	s := &Service{Name: n, Limits: map[string]Val[string]{}}
	spec := func(v string) (string, error) {
		return syntax.Expand(v, func(c byte) (string, error) {
			if v, ok := n.specifier(c); ok {
				return v, nil
			}
			return sp.Lookup(c)
		})
	}
	var errs config.Errors
	for _, k := range f.Keys {
		h := serviceKey(k.Section + "." + k.Name)
		if h == nil && k.Section == "Service" && strings.HasPrefix(k.Name, "Limit") && k.Name != "LimitNOFILE" && isRlimit(k.Name) {
			s.Limits[k.Name] = Val[string]{k.Value, k.Pos}
			continue
		}
		if h == nil {
			s.Unsupported = append(s.Unsupported, k)
			continue
		}
		if err := h(s, k, spec); err != nil {
			errs = append(errs, config.Error{Pos: k.Pos, Msg: fmt.Sprintf("%s=%s: %v", k.Name, k.Value, err)})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return s, nil
}

type specFn = func(string) (string, error)

type handler func(s *Service, k Key, spec specFn) error

// isRlimit is true for the Limit*= keys of setrlimit's resources.
func isRlimit(key string) bool {
	switch key {
	case "LimitCPU", "LimitFSIZE", "LimitDATA", "LimitSTACK", "LimitCORE",
		"LimitRSS", "LimitAS", "LimitNPROC", "LimitMEMLOCK",
		"LimitLOCKS", "LimitSIGPENDING", "LimitMSGQUEUE", "LimitNICE",
		"LimitRTPRIO", "LimitRTTIME":
		return true
	}
	return false
}

// serviceKey is how the key "Section.Key" is read, nil for a key this
// reader does not know. A switch, not a map: no table is built at PID 1's
// start-up for a unit file reader most boots never call, and no generic
// map type makes the linker keep the parser's methods for reflection.
func serviceKey(name string) handler {
	switch name {
	// Description is kept as written: systemd resolves its specifiers only
	// to show it, and falls back to the raw text.
	case "Unit.Description":
		return str(func(s *Service) *Val[string] { return &s.Description }, false, nil)
	case "Unit.Documentation":
		return list(func(s *Service) *[]Val[string] { return &s.Documentation }, syntax.Unquote, true)
	case "Unit.After":
		return list(func(s *Service) *[]Val[string] { return &s.After }, syntax.RetainEscape, false)
	case "Unit.Before":
		return list(func(s *Service) *[]Val[string] { return &s.Before }, syntax.RetainEscape, false)
	case "Unit.Requires":
		return list(func(s *Service) *[]Val[string] { return &s.Requires }, syntax.RetainEscape, false)
	case "Unit.Wants":
		return list(func(s *Service) *[]Val[string] { return &s.Wants }, syntax.RetainEscape, false)
	case "Unit.BindsTo":
		return list(func(s *Service) *[]Val[string] { return &s.BindsTo }, syntax.RetainEscape, false)
	case "Unit.Conflicts":
		return list(func(s *Service) *[]Val[string] { return &s.Conflicts }, syntax.RetainEscape, false)

	case "Service.Type":
		return enum(func(s *Service) *Val[string] { return &s.Type },
			"simple", "exec", "forking", "oneshot", "dbus", "notify", "notify-reload", "idle")
	case "Service.ExecStart":
		return exec(func(s *Service) *[]Command { return &s.ExecStart })
	case "Service.ExecStartPre":
		return exec(func(s *Service) *[]Command { return &s.ExecStartPre })
	case "Service.ExecStartPost":
		return exec(func(s *Service) *[]Command { return &s.ExecStartPost })
	case "Service.ExecStop":
		return exec(func(s *Service) *[]Command { return &s.ExecStop })
	case "Service.ExecStopPost":
		return exec(func(s *Service) *[]Command { return &s.ExecStopPost })
	case "Service.ExecReload":
		return exec(func(s *Service) *[]Command { return &s.ExecReload })
	case "Service.PIDFile":
		return str(func(s *Service) *Val[string] { return &s.PIDFile }, true, absPath)
	case "Service.RemainAfterExit":
		return boolean(func(s *Service) *Val[bool] { return &s.RemainAfterExit })
	case "Service.Restart":
		return enum(func(s *Service) *Val[string] { return &s.Restart },
			"no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always")
	case "Service.RestartSec":
		return timespan(func(s *Service) *Val[time.Duration] { return &s.RestartSec })
	case "Service.TimeoutStartSec":
		return timespan(func(s *Service) *Val[time.Duration] { return &s.TimeoutStartSec })
	case "Service.TimeoutStopSec":
		return timespan(func(s *Service) *Val[time.Duration] { return &s.TimeoutStopSec })
	case "Service.TimeoutSec":
		return func(s *Service, k Key, spec specFn) error {
			// TimeoutSec= sets both.
			if err := timespan(func(s *Service) *Val[time.Duration] { return &s.TimeoutStartSec })(s, k, spec); err != nil {
				return err
			}
			return timespan(func(s *Service) *Val[time.Duration] { return &s.TimeoutStopSec })(s, k, spec)
		}

	case "Service.User":
		return str(func(s *Service) *Val[string] { return &s.User }, true, nil)
	case "Service.Group":
		return str(func(s *Service) *Val[string] { return &s.Group }, true, nil)
	case "Service.SupplementaryGroups":
		return list(func(s *Service) *[]Val[string] { return &s.SupplementaryGroups }, syntax.Unquote, true)
	case "Service.DynamicUser":
		return boolean(func(s *Service) *Val[bool] { return &s.DynamicUser })
	case "Service.WorkingDirectory":
		return str(func(s *Service) *Val[string] { return &s.WorkingDirectory }, true, workDir)
	case "Service.RootDirectory":
		return str(func(s *Service) *Val[string] { return &s.RootDirectory }, true, absPath)
	case "Service.Environment":
		return func(s *Service, k Key, spec specFn) error {
			if k.Value == "" {
				s.Environment = nil
				return nil
			}
			vs, err := parseEnvironment(k.Value, k.Pos, spec)
			s.Environment = append(s.Environment, vs...)
			return err
		}
	case "Service.EnvironmentFile":
		return func(s *Service, k Key, spec specFn) error {
			if k.Value == "" {
				s.EnvironmentFiles = nil
				return nil
			}
			p, err := spec(k.Value)
			if err != nil {
				return err
			}
			ef := EnvFile{Path: strings.TrimPrefix(p, "-"), Optional: strings.HasPrefix(p, "-")}
			if err := absPath(ef.Path); err != nil {
				return err
			}
			s.EnvironmentFiles = append(s.EnvironmentFiles, Val[EnvFile]{ef, k.Pos})
			return nil
		}
	case "Service.RuntimeDirectory":
		return dirs(func(s *Service) *[]Val[string] { return &s.RuntimeDirectory })
	case "Service.StateDirectory":
		return dirs(func(s *Service) *[]Val[string] { return &s.StateDirectory })
	case "Service.CacheDirectory":
		return dirs(func(s *Service) *[]Val[string] { return &s.CacheDirectory })
	case "Service.LogsDirectory":
		return dirs(func(s *Service) *[]Val[string] { return &s.LogsDirectory })
	case "Service.ConfigurationDirectory":
		return dirs(func(s *Service) *[]Val[string] { return &s.ConfigurationDirectory })
	case "Service.RuntimeDirectoryMode":
		return mode(func(s *Service) *Val[fs.FileMode] { return &s.RuntimeDirectoryMode })
	case "Service.StateDirectoryMode":
		return mode(func(s *Service) *Val[fs.FileMode] { return &s.StateDirectoryMode })
	case "Service.CacheDirectoryMode":
		return mode(func(s *Service) *Val[fs.FileMode] { return &s.CacheDirectoryMode })
	case "Service.LogsDirectoryMode":
		return mode(func(s *Service) *Val[fs.FileMode] { return &s.LogsDirectoryMode })
	case "Service.ConfigurationDirectoryMode":
		return mode(func(s *Service) *Val[fs.FileMode] { return &s.ConfigurationDirectoryMode })
	case "Service.RuntimeDirectoryPreserve":
		return func(s *Service, k Key, spec specFn) error {
			v := k.Value
			if b, err := parseBool(v); err == nil {
				v = map[bool]string{true: "yes", false: "no"}[b]
			} else if v != "restart" {
				return fmt.Errorf("expected yes, no or restart")
			}
			s.RuntimeDirectoryPreserve = Val[string]{v, k.Pos}
			return nil
		}
	case "Service.LimitNOFILE":
		return func(s *Service, k Key, spec specFn) error {
			l, err := parseLimit(k.Value)
			if err != nil {
				return err
			}
			s.LimitNOFILE = Val[Limit]{l, k.Pos}
			return nil
		}
	case "Service.AmbientCapabilities":
		return caps(func(s *Service) *[]Val[CapSet] { return &s.AmbientCapabilities })
	case "Service.CapabilityBoundingSet":
		return caps(func(s *Service) *[]Val[CapSet] { return &s.CapabilityBoundingSet })
	case "Service.NoNewPrivileges":
		return boolean(func(s *Service) *Val[bool] { return &s.NoNewPrivileges })
	case "Service.PrivateTmp":
		return boolean(func(s *Service) *Val[bool] { return &s.PrivateTmp })
	case "Service.ProtectSystem":
		return boolOr(func(s *Service) *Val[string] { return &s.ProtectSystem }, "full", "strict")
	case "Service.ProtectHome":
		return boolOr(func(s *Service) *Val[string] { return &s.ProtectHome }, "read-only", "tmpfs")
	case "Service.ReadWritePaths":
		return paths(func(s *Service) *[]Val[string] { return &s.ReadWritePaths })
	case "Service.ReadOnlyPaths":
		return paths(func(s *Service) *[]Val[string] { return &s.ReadOnlyPaths })
	case "Service.BindPaths":
		return binds(func(s *Service) *[]Val[string] { return &s.BindPaths })
	case "Service.BindReadOnlyPaths":
		return binds(func(s *Service) *[]Val[string] { return &s.BindReadOnlyPaths })

	case "Service.KillMode":
		return enum(func(s *Service) *Val[string] { return &s.KillMode }, "control-group", "mixed", "process", "none")
	case "Service.KillSignal":
		return func(s *Service, k Key, spec specFn) error {
			if !validSignal(k.Value) {
				return fmt.Errorf("expected a signal name (SIGTERM, TERM) or number")
			}
			s.KillSignal = Val[string]{k.Value, k.Pos}
			return nil
		}

	case "Install.WantedBy":
		return list(func(s *Service) *[]Val[string] { return &s.WantedBy }, syntax.Unquote, true)
	case "Install.Alias":
		return list(func(s *Service) *[]Val[string] { return &s.Alias }, syntax.Unquote, true)
	}
	return nil
}

func str(field func(*Service) *Val[string], specifiers bool, check func(string) error) handler {
	return func(s *Service, k Key, spec specFn) error {
		v := k.Value
		if specifiers {
			var err error
			if v, err = spec(v); err != nil {
				return err
			}
		}
		if v == "" {
			*field(s) = Val[string]{}
			return nil
		}
		if check != nil {
			if err := check(v); err != nil {
				return err
			}
		}
		*field(s) = Val[string]{v, k.Pos}
		return nil
	}
}

func list(field func(*Service) *[]Val[string], flags syntax.Flags, reset bool) handler {
	return func(s *Service, k Key, spec specFn) error {
		if k.Value == "" {
			if reset {
				*field(s) = nil
			}
			return nil
		}
		words, err := syntax.Words(k.Value, flags)
		if err != nil {
			return err
		}
		for _, w := range words {
			if w, err = spec(w); err != nil {
				return err
			}
			*field(s) = append(*field(s), Val[string]{w, k.Pos})
		}
		return nil
	}
}

// checked is a list whose new elements must pass check.
func checked(field func(*Service) *[]Val[string], flags syntax.Flags, check func(string) error) handler {
	l := list(field, flags, true)
	return func(s *Service, k Key, spec specFn) error {
		before := len(*field(s))
		if err := l(s, k, spec); err != nil {
			return err
		}
		for _, v := range (*field(s))[min(before, len(*field(s))):] {
			if err := check(v.V); err != nil {
				return err
			}
		}
		return nil
	}
}

// dirs reads RuntimeDirectory= and its kin: relative paths without "..",
// each maybe with ":LINK".
func dirs(field func(*Service) *[]Val[string]) handler {
	return checked(field, syntax.Unquote|syntax.CUnescape, func(d string) error {
		p, _, _ := strings.Cut(d, ":")
		if p == "" || strings.HasPrefix(p, "/") || p == ".." || strings.HasPrefix(p, "../") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") {
			return fmt.Errorf("%q: expected a relative path without ..", d)
		}
		return nil
	})
}

// paths reads ReadWritePaths= and ReadOnlyPaths=: absolute paths after
// the optional "-" (missing is fine) and "+" (relative to RootDirectory=).
func paths(field func(*Service) *[]Val[string]) handler {
	return checked(field, syntax.Unquote, func(p string) error {
		q := p
		for i := 0; i < 2 && q != "" && (q[0] == '-' || q[0] == '+'); i++ {
			q = q[1:]
		}
		return absPath(q)
	})
}

// binds reads BindPaths= and BindReadOnlyPaths=: "[-]SRC[:DEST[:OPTIONS]]"
// kept as written, escapes ("\:") included, SRC absolute.
func binds(field func(*Service) *[]Val[string]) handler {
	return checked(field, syntax.Unquote|syntax.RetainEscape, func(b string) error {
		if !strings.HasPrefix(strings.TrimPrefix(b, "-"), "/") {
			return fmt.Errorf("%q: expected [-]SOURCE[:DEST[:OPTIONS]] with an absolute source", b)
		}
		return nil
	})
}

func enum(field func(*Service) *Val[string], values ...string) handler {
	return func(s *Service, k Key, spec specFn) error {
		if k.Value == "" {
			*field(s) = Val[string]{}
			return nil
		}
		for _, v := range values {
			if k.Value == v {
				*field(s) = Val[string]{v, k.Pos}
				return nil
			}
		}
		return fmt.Errorf("expected one of %s", strings.Join(values, ", "))
	}
}

// boolOr reads a boolean ("yes"/"no") or one of the named values.
func boolOr(field func(*Service) *Val[string], values ...string) handler {
	e := enum(field, values...)
	return func(s *Service, k Key, spec specFn) error {
		if b, err := parseBool(k.Value); err == nil {
			*field(s) = Val[string]{map[bool]string{true: "yes", false: "no"}[b], k.Pos}
			return nil
		}
		if err := e(s, k, spec); err != nil {
			return fmt.Errorf("expected a boolean or one of %s", strings.Join(values, ", "))
		}
		return nil
	}
}

func boolean(field func(*Service) *Val[bool]) handler {
	return func(s *Service, k Key, spec specFn) error {
		b, err := parseBool(k.Value)
		if err != nil {
			return err
		}
		*field(s) = Val[bool]{b, k.Pos}
		return nil
	}
}

func timespan(field func(*Service) *Val[time.Duration]) handler {
	return func(s *Service, k Key, spec specFn) error {
		d, err := syntax.ParseTimespan(k.Value)
		if err != nil {
			return err
		}
		*field(s) = Val[time.Duration]{d, k.Pos}
		return nil
	}
}

func mode(field func(*Service) *Val[fs.FileMode]) handler {
	return func(s *Service, k Key, spec specFn) error {
		m, err := ParseMode(k.Value)
		if err != nil {
			return err
		}
		*field(s) = Val[fs.FileMode]{m, k.Pos}
		return nil
	}
}

func exec(field func(*Service) *[]Command) handler {
	return func(s *Service, k Key, spec specFn) error {
		if k.Value == "" {
			*field(s) = nil
			return nil
		}
		cs, err := parseExec(k.Value, k.Pos, spec)
		if err != nil {
			return err
		}
		*field(s) = append(*field(s), cs...)
		return nil
	}
}

func caps(field func(*Service) *[]Val[CapSet]) handler {
	return func(s *Service, k Key, spec specFn) error {
		v := k.Value
		cs := CapSet{}
		if strings.HasPrefix(v, "~") {
			cs.Invert, v = true, v[1:]
		}
		words, err := syntax.Words(v, syntax.Unquote)
		if err != nil {
			return err
		}
		for _, w := range words {
			c := strings.ToUpper(w)
			if !capNames()[c] {
				return fmt.Errorf("unknown capability %q", w)
			}
			cs.Names = append(cs.Names, c)
		}
		if len(cs.Names) == 0 {
			// "" or "~" replaces what came before (config_parse_capability_set).
			*field(s) = nil
		}
		*field(s) = append(*field(s), Val[CapSet]{cs, k.Pos})
		return nil
	}
}

// Caps is the set a capability key's assignments make, as systemd merges
// them: the first (or an empty one) replaces, later ones add their names
// or, with "~", remove them. initial is the set before any assignment
// (every capability for CapabilityBoundingSet, none for
// AmbientCapabilities).
func Caps(sets []Val[CapSet], initial []string) map[string]bool {
	out := map[string]bool{}
	for _, c := range initial {
		out[c] = true
	}
	for _, s := range sets {
		if len(s.V.Names) == 0 || sameSet(out, initial) {
			out = map[string]bool{}
			if s.V.Invert {
				for c := range capNames() {
					out[c] = true
				}
			}
		}
		for _, c := range s.V.Names {
			out[c] = !s.V.Invert
			if s.V.Invert {
				delete(out, c)
			}
		}
	}
	return out
}

func sameSet(m map[string]bool, l []string) bool {
	if len(m) != len(l) {
		return false
	}
	for _, c := range l {
		if !m[c] {
			return false
		}
	}
	return true
}

// AllCaps are the capabilities Linux knows, for Caps's initial set.
func AllCaps() []string {
	names := capNames()
	out := make([]string, 0, len(names))
	for c := range names {
		out = append(out, c)
	}
	return out
}

// capNames are the capabilities Linux knows, built on first use.
var capNames = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, c := range strings.Fields(`CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID
		SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER
		SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE
		SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN
		SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE`) {
		m["CAP_"+c] = true
	}
	return m
})

// ParseMode reads an octal access mode (at most 07777).
func ParseMode(s string) (fs.FileMode, error) {
	m, ok := syntax.OctalMode(s)
	if !ok {
		return 0, fmt.Errorf("bad mode %q: expected octal digits, at most 07777", s)
	}
	return m, nil
}

// parseBool is parse_boolean: 1/yes/y/true/t/on or 0/no/n/false/f/off,
// in any case.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "yes", "y", "true", "t", "on":
		return true, nil
	case "0", "no", "n", "false", "f", "off":
		return false, nil
	}
	return false, fmt.Errorf("expected a boolean (yes, no, true, false, on, off, 1, 0)")
}

// parseLimit reads "N", "SOFT:HARD" or "infinity" (rlimit_parse for
// counts; NOFILE takes no unit).
func parseLimit(s string) (Limit, error) {
	one := func(v string) (uint64, bool, error) {
		if v == "infinity" {
			return 0, true, nil
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, false, fmt.Errorf("bad limit %q: expected a number or infinity", v)
		}
		return n, false, nil
	}
	soft, hard, pair := strings.Cut(s, ":")
	var l Limit
	var err error
	if l.Soft, l.SoftUnlimited, err = one(soft); err != nil {
		return Limit{}, err
	}
	if !pair {
		l.Hard, l.HardUnlimited = l.Soft, l.SoftUnlimited
		return l, nil
	}
	if l.Hard, l.HardUnlimited, err = one(hard); err != nil {
		return Limit{}, err
	}
	if !l.HardUnlimited && (l.SoftUnlimited || l.Soft > l.Hard) {
		return Limit{}, fmt.Errorf("soft limit %s above hard limit %s", soft, hard)
	}
	return l, nil
}

func absPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("%q is not an absolute path", p)
	}
	return nil
}

// workDir is WorkingDirectory=: an absolute path or "~", either after an
// optional "-" (a missing directory is not an error).
func workDir(p string) error {
	p = strings.TrimPrefix(p, "-")
	if p == "~" {
		return nil
	}
	return absPath(p)
}

// signals are the signal names without SIG (a literal: no work at start).
var signals = [...]string{"HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1",
	"SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU",
	"URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"}

func validSignal(s string) bool {
	if n, err := strconv.Atoi(s); err == nil {
		return n > 0 && n < 65
	}
	name := strings.TrimPrefix(s, "SIG")
	for _, sig := range signals {
		if name == sig {
			return true
		}
	}
	if rest, ok := strings.CutPrefix(name, "RTMIN"); ok {
		return rest == "" || strings.HasPrefix(rest, "+")
	}
	if rest, ok := strings.CutPrefix(name, "RTMAX"); ok {
		return rest == "" || strings.HasPrefix(rest, "-")
	}
	return false
}

package cm

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/unit-os/unit/platform"
	"github.com/unit-os/unit/safepath"
)

// env is what resources need from the system beyond their desired state.
// Every path is per engine so tests run against a temp root, never globals.
type env struct {
	passwd, group, shadow string // account databases
	procSys               string // sysctl tree
	sysModule             string // loaded modules
	mountinfo             string
	hostname              bool   // manage the kernel hostname ([system] hostname)
	hostnameFile          string // "" leaves /etc/hostname alone
	modules               ModuleLoader
	svc                   Services
	facts                 atomic.Pointer[Facts] // swapped by a reload while a background pass renders
	factsFixed            bool
	platformFacts         string // the platform facts file ("" reads none; platformreload.go)
	run                   CommandRunner
	log                   *slog.Logger
	now                   func() time.Time // tmpfile ages are measured on it; nil: time.Now

	// accounts serialises read-modify-write of the account databases:
	// users and groups converge in parallel but share three files.
	accounts sync.Mutex
	// dirs defers directory fsyncs of file writes to the end of a pass.
	dirs dirSyncer
	// temps sweeps dead writers' temp files, once per directory.
	temps safepath.Sweeper
}

// StateDir is the daemon's state directory as PID 1, and `unit run`'s
// default as root (--state moves it).
const StateDir = "/run/unit"

func defaultEnv() *env {
	return &env{
		passwd: "/etc/passwd", group: "/etc/group", shadow: "/etc/shadow",
		procSys: "/proc/sys", sysModule: "/sys/module",
		mountinfo: "/proc/self/mountinfo", platformFacts: platform.FactsPath(StateDir),
	}
}

// ModuleLoader loads kernel modules with their dependencies (kmod.Loader).
type ModuleLoader interface {
	Load(names ...string) ([]string, error)
}

// Services is how cm drives the supervisor (implemented by supervise).
type Services interface {
	Restart(ctx context.Context, name string) error
}

// ServiceControl is the rest of the supervisor that service resources use
// to keep an enabled service running; without it they only restart.
type ServiceControl interface {
	Services
	Start(ctx context.Context, name string) error
	// State is the supervisor's word for the service: "running", "stopped", ...
	State(ctx context.Context, name string) (string, error)
}

// WithAccountsDB sets the passwd, group and shadow files (default /etc/...).
func WithAccountsDB(passwd, group, shadow string) Option {
	return func(e *Engine) { e.env.passwd, e.env.group, e.env.shadow = passwd, group, shadow }
}

// WithProcSys sets where sysctls live (default /proc/sys).
func WithProcSys(dir string) Option { return func(e *Engine) { e.env.procSys = dir } }

// WithModules sets the module loader and where loaded modules show
// (default /sys/module); without a loader, the running kernel's tree is used.
func WithModules(l ModuleLoader, sysModule string) Option {
	return func(e *Engine) {
		e.env.modules = l
		if sysModule != "" {
			e.env.sysModule = sysModule
		}
	}
}

// WithMountinfo sets the mount table read by mount resources.
func WithMountinfo(path string) Option { return func(e *Engine) { e.env.mountinfo = path } }

// WithHostname makes [system] hostname a resource: the kernel hostname and,
// if file is set (e.g. /etc/hostname), that file. PID 1 sets it; on a host
// (`unit run`, tests) the machine's name is left alone.
func WithHostname(file string) Option {
	return func(e *Engine) { e.env.hostname, e.env.hostnameFile = true, file }
}

// WithClock sets the clock a tmpfile's age is measured on (tests).
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.env.now = now } }

// clock is the time now, by WithClock's clock if one was set.
func (en *env) clock() time.Time {
	if en.now != nil {
		return en.now()
	}
	return time.Now()
}

// WithFacts fixes the facts templates see (tests; the default gathers them).
func WithFacts(f *Facts) Option {
	return func(e *Engine) { e.env.facts.Store(f); e.env.factsFixed = f != nil }
}

package supervise

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/config"
)

// Go's fork/exec cannot set a child's umask, rlimits or no_new_privs. For a
// service that asks for them, unit re-executes itself (/proc/self/exe) with
// setupEnv set; init below applies the settings in that short-lived process
// and execs the service, like s6's chpst or s6-softlimit in front of a
// daemon. Credentials and ambient capabilities are still applied by the
// fork itself, so the settings here need no privilege beyond what the
// service has (raising a hard rlimit needs root).
const setupEnv = "UNIT_EXEC_SETUP"

// execSetup is the trampoline's instructions.
type execSetup struct {
	Path       string            `json:"path"`
	Umask      int               `json:"umask"` // -1: keep
	NoNewPrivs bool              `json:"no_new_privs,omitempty"`
	Rlimits    map[int][2]uint64 `json:"rlimits,omitempty"`

	// With a mount namespace (namespace.go) the fork stays root: the
	// mounts come first, then the credentials, capabilities and
	// directory the fork would have applied.
	NS   []nsMount           `json:"ns,omitempty"`
	Cred *syscall.Credential `json:"cred,omitempty"`
	Caps []uintptr           `json:"caps,omitempty"`
	Dir  string              `json:"dir,omitempty"`
}

// inNamespace has the trampoline set up plan in a namespace the fork
// clones, and take over the fork's credentials and directory.
func inNamespace(st *execSetup, path string, plan []nsMount, attr *syscall.ProcAttr) *execSetup {
	if st == nil {
		st = &execSetup{Path: path, Umask: -1}
	}
	sys := attr.Sys
	st.NS, st.Cred, st.Caps, st.Dir = plan, sys.Credential, sys.AmbientCaps, attr.Dir
	sys.Credential, sys.AmbientCaps, attr.Dir = nil, nil, "/"
	sys.Cloneflags |= syscall.CLONE_NEWNS
	return st
}

func init() {
	if spec, ok := os.LookupEnv(setupEnv); ok {
		runSetup(spec) // never returns
	}
}

// needsSetup builds the trampoline instructions for cfg, or nil.
func needsSetup(cfg *config.Service, path string) *execSetup {
	if cfg.Umask == "" && !cfg.NoNewPrivs && len(cfg.Rlimits) == 0 {
		return nil
	}
	st := &execSetup{Path: path, Umask: -1, NoNewPrivs: cfg.NoNewPrivs}
	if cfg.Umask != "" {
		st.Umask = int(cfg.UmaskValue())
	}
	for name, v := range cfg.Rlimits {
		lim := uint64(v)
		if v < 0 {
			lim = unix.RLIM_INFINITY
		}
		if st.Rlimits == nil {
			st.Rlimits = map[int][2]uint64{}
		}
		st.Rlimits[config.RlimitNames[name]] = [2]uint64{lim, lim}
	}
	return st
}

// wrap returns the path and environment that run the service through the
// trampoline.
func (st *execSetup) wrap(env []string) (string, []string, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return "", nil, fmt.Errorf("exec setup: %w", err)
	}
	return "/proc/self/exe", append(env, setupEnv+"="+string(b)), nil
}

// runSetup is the trampoline. It runs in the service's own process, so it
// may exit: a failure is reported on the service's output as exit 127.
func runSetup(spec string) {
	// no_new_privs is per thread: set it on the thread that execs.
	runtime.LockOSThread()
	var st execSetup
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "unit: exec setup: "+format+"\n", args...)
		os.Exit(127)
	}
	if err := json.Unmarshal([]byte(spec), &st); err != nil {
		fail("%v", err)
	}
	if len(st.NS) > 0 {
		if err := mountNamespace(st.NS); err != nil {
			fail("%v", err)
		}
	}
	for res, lim := range st.Rlimits {
		// syscall.Setrlimit (not unix's) also tells the runtime not to
		// restore its own RLIMIT_NOFILE on exec.
		if err := syscall.Setrlimit(res, &syscall.Rlimit{Cur: lim[0], Max: lim[1]}); err != nil {
			fail("rlimit %d: %v", res, err)
		}
	}
	if st.Cred != nil {
		if err := setCred(st.Cred, st.Caps); err != nil {
			fail("%v", err)
		}
	}
	if st.Dir != "" {
		if err := syscall.Chdir(st.Dir); err != nil {
			fail("dir %s: %v", st.Dir, err)
		}
	}
	if st.Umask >= 0 {
		syscall.Umask(st.Umask)
	}
	if st.NoNewPrivs {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			fail("no_new_privs: %v", err)
		}
	}
	env := make([]string, 0, len(os.Environ()))
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, setupEnv+"=") {
			env = append(env, e)
		}
	}
	err := syscall.Exec(st.Path, os.Args, env)
	fail("exec %s: %v", st.Path, explainExec(st.Path, err))
}

package supervise

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/config"
)

// What a start needs that does not change between two starts of the same
// config is computed once per config (SetConfig gives a changed service a
// new *config.Service), not on every restart.

// startEnv is runEnv, kept for the next starts unless it reads something
// that may change meanwhile (env_files, the user database). The caller may
// append to it.
func (s *Supervisor) startEnv(v *service) ([]string, *syscall.Credential, error) {
	cfg := v.cfg
	if v.envOf == cfg {
		return slices.Clip(v.env), nil, nil
	}
	env, cred, err := s.runEnv(cfg)
	if err != nil {
		return nil, nil, err
	}
	if len(cfg.EnvFiles) == 0 && cred == nil {
		v.envOf, v.env = cfg, env
	}
	return slices.Clip(env), cred, nil
}

// readySpec is v's parsed ready spec.
func (v *service) readySpec() (config.ShortSpec, error) {
	if v.readyOf == v.cfg {
		return v.ready, nil
	}
	sp, err := config.ParseReady(v.cfg.Ready)
	if err != nil {
		return sp, fmt.Errorf("ready = %q: %w", v.cfg.Ready, err)
	}
	v.readyOf, v.ready = v.cfg, sp
	return sp, nil
}

// devNull is the services' stdin, opened once (on the loop).
func (s *Supervisor) devNull() (uintptr, error) {
	if s.null == nil {
		f, err := os.Open(os.DevNull)
		if err != nil {
			return 0, err
		}
		s.null = f
	}
	return s.null.Fd(), nil
}

// outputPipe is a service's output pipe: the read end for pump (in the
// poller, for its read deadline), the write end a plain blocking fd for the
// child, never registered with the poller.
func outputPipe() (*os.File, int, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, -1, err
	}
	if err := unix.SetNonblock(p[0], true); err != nil {
		unix.Close(p[0])
		unix.Close(p[1])
		return nil, -1, err
	}
	return os.NewFile(uintptr(p[0]), "|0"), p[1], nil
}

// execPath is lookPath, kept for the next starts while the file is still
// an executable there: one stat instead of one per PATH directory.
func (v *service) execPath(prog string, env []string) (string, error) {
	if strings.Contains(prog, "/") {
		return prog, nil
	}
	if v.pathOf == v.cfg && v.pathProg == prog && isExecutable(v.path) {
		return v.path, nil
	}
	p, err := lookPath(prog, env)
	if err == nil {
		v.pathOf, v.pathProg, v.path = v.cfg, prog, p
	}
	return p, err
}

func isExecutable(path string) bool {
	var st unix.Stat_t
	return unix.Stat(path, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Mode&0o111 != 0
}

package supervise

import (
	"errors"
	"syscall"

	"github.com/unit-os/unit/config"
)

// prefixedArgv is command c, whose first word's prefixes pre are split
// off (config.CommandPrefix), with $VARs expanded when expand is set and
// ":" is not.
// It returns the program (expanded) and the argument vector; with "@"
// the program is the first word and argv starts at the second.
func prefixedArgv(pre config.Prefixes, c []string, expand bool, vars map[string]string) (string, []string, error) {
	argv := append([]string{pre.Prog}, c[1:]...)
	if expand && !pre.NoExpand {
		argv = expandArgv(argv, vars)
	}
	prog := ""
	if pre.Argv0 {
		// "@": the program, then the argument vector from argv[0].
		if len(argv) < 2 {
			return "", nil, errors.New(`"@" without argv[0]`)
		}
		prog, argv = argv[0], argv[1:]
	} else if len(argv) > 0 {
		prog = argv[0]
	}
	if len(argv) == 0 {
		return "", nil, errors.New("empty after expansion")
	}
	return prog, argv, nil
}

// applyPrefixes gives attr what a command with pre runs as: the service's
// credentials and ambient capabilities (none for "+" and "!": root), the
// trampoline's setup and its mount namespace plan (neither for "+").
// It returns the path to exec.
func applyPrefixes(cfg *config.Service, pre config.Prefixes, path string, cred *syscall.Credential, plan []nsMount, attr *syscall.ProcAttr) (string, error) {
	if pre.Root {
		return path, nil
	}
	if !pre.NoSetuid {
		attr.Sys.Credential, attr.Sys.AmbientCaps = cred, ambientCaps(cfg)
	}
	st := needsSetup(cfg, path)
	if plan != nil {
		st = inNamespace(st, path, plan, attr)
	}
	if st == nil {
		return path, nil
	}
	argv0, env, err := st.wrap(attr.Env)
	if err != nil {
		return "", err
	}
	attr.Env = env
	return argv0, nil
}

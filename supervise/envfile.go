package supervise

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"sort"
	"strings"

	"github.com/unit-os/unit/execfile"

	"github.com/unit-os/unit/config"
)

// serviceEnv is a service's clean environment: PATH, the daemon's own
// variables (base: WithEnv), env, then env_files (which override env, as
// systemd's EnvironmentFile= does). Files are read at each start, so an
// edited file takes effect on the next restart.
func serviceEnv(base map[string]string, cfg *config.Service) ([]string, error) {
	if len(cfg.EnvFiles) == 0 {
		return serviceEnvBase(base, cfg), nil
	}
	vars := envVars(base, cfg)
	for _, f := range cfg.EnvFiles {
		optional := strings.HasPrefix(f, "-")
		f = strings.TrimPrefix(f, "-")
		if err := readEnvFile(f, vars); err != nil {
			if optional && errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, err
		}
	}
	return envList(vars), nil
}

// serviceEnvBase is PATH, base, then env. A PATH in env replaces ours
// rather than following it (getenv takes the first).
func serviceEnvBase(base map[string]string, cfg *config.Service) []string {
	if len(base) == 0 {
		return envList(cfg.Env)
	}
	return envList(envVars(base, cfg))
}

// envVars is base with the service's env over it.
func envVars(base map[string]string, cfg *config.Service) map[string]string {
	vars := make(map[string]string, len(base)+len(cfg.Env))
	maps.Copy(vars, base)
	maps.Copy(vars, cfg.Env)
	return vars
}

func envList(vars map[string]string) []string {
	var env []string
	if _, ok := vars["PATH"]; !ok {
		env = append(env, "PATH="+execfile.DefaultPATH)
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+vars[k])
	}
	return env
}

// readEnvFile adds the KEY=VALUE lines of path to vars: blank lines and
// # or ; comments are skipped, "export " is allowed, one pair of matching
// quotes around the value is removed.
func readEnvFile(path string, vars map[string]string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("env file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return fmt.Errorf("%s:%d: expected KEY=VALUE", path, n)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		vars[k] = v
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("env file %s: %w", path, err)
	}
	return nil
}

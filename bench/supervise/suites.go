package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// unitSup is `unit run` in host mode.
type unitSup struct{ bin string }

func (u *unitSup) name() string { return "unit" }

func (u *unitSup) start(dir string, services map[string][]string, env []string) (*exec.Cmd, error) {
	conf := filepath.Join(dir, "etc")
	if err := os.MkdirAll(conf, 0o755); err != nil {
		return nil, err
	}
	var b strings.Builder
	names := make([]string, 0, len(services))
	for n := range services {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "[service.%s]\nexec = [", n)
		for i, a := range services[n] {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q", a)
		}
		b.WriteString("]\n")
		if len(env) > 0 {
			b.WriteString("env = {")
			for i, e := range env {
				k, v, _ := strings.Cut(e, "=")
				if i > 0 {
					b.WriteString(",")
				}
				fmt.Fprintf(&b, " %s = %q", k, v)
			}
			b.WriteString(" }\n")
		}
	}
	if err := os.WriteFile(filepath.Join(conf, "bench.toml"), []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	return launch([]string{u.bin, "run", "--config", conf, "--state", filepath.Join(dir, "state")}, nil, filepath.Join(dir, "unit.log"))
}

func (u *unitSup) procs(root int) []int { return []int{root} }

func (u *unitSup) stop(cmd *exec.Cmd) { stopGroup(cmd, syscall.SIGTERM, "") }

// scanDir writes one service directory per service with a run script (a
// shell that execs the argv; a single binary is linked directly).
func scanDir(dir string, services map[string][]string) (string, error) {
	scan := filepath.Join(dir, "scan")
	for n, argv := range services {
		sd := filepath.Join(scan, n)
		if err := os.MkdirAll(sd, 0o755); err != nil {
			return "", err
		}
		run := filepath.Join(sd, "run")
		if len(argv) == 1 {
			if err := os.Symlink(argv[0], run); err != nil {
				return "", err
			}
			continue
		}
		script := "#!/bin/sh\nexec " + strings.Join(argv, " ") + "\n"
		if err := os.WriteFile(run, []byte(script), 0o755); err != nil {
			return "", err
		}
	}
	return scan, nil
}

// s6Sup is s6-svscan with one s6-supervise per service.
type s6Sup struct{}

func (s *s6Sup) name() string { return "s6" }

func (s *s6Sup) start(dir string, services map[string][]string, env []string) (*exec.Cmd, error) {
	scan, err := scanDir(dir, services)
	if err != nil {
		return nil, err
	}
	// -c: s6-svscan supervises at most 500 services unless told more.
	return launch([]string{"s6-svscan", "-c", fmt.Sprint(len(services) + 10), scan}, env, filepath.Join(dir, "s6.log"))
}

func (s *s6Sup) procs(root int) []int { return children(root, "s6-supervise") }

func (s *s6Sup) stop(cmd *exec.Cmd) { stopGroup(cmd, syscall.SIGTERM, "") }

// runitSup is runsvdir with one runsv per service.
type runitSup struct{}

func (r *runitSup) name() string { return "runit" }

func (r *runitSup) start(dir string, services map[string][]string, env []string) (*exec.Cmd, error) {
	scan, err := scanDir(dir, services)
	if err != nil {
		return nil, err
	}
	return launch([]string{"runsvdir", "-P", scan}, env, filepath.Join(dir, "runit.log"))
}

func (r *runitSup) procs(root int) []int { return children(root, "runsv") }

// SIGHUP makes runsvdir send TERM to every runsv and exit.
func (r *runitSup) stop(cmd *exec.Cmd) { stopGroup(cmd, syscall.SIGHUP, "") }

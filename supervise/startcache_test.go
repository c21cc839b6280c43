package supervise

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/unit-os/unit/config"
)

// A restart reuses its config's environment; a new config, or env_files
// (read at every start), computes it again; appending (NOTIFY_SOCKET) does
// not reach the kept copy.
func TestStartEnvKeptPerConfig(t *testing.T) {
	s := New(testReaper, WithEnv(map[string]string{"UNIT_SOCKET": "/run/unit.sock"}))
	v := &service{name: "a", cfg: &config.Service{Env: map[string]string{"A": "1"}}}
	env, _, err := s.startEnv(v)
	if err != nil {
		t.Fatal(err)
	}
	_ = append(env, "NOTIFY_SOCKET=x")
	again, _, _ := s.startEnv(v)
	if &again[0] != &env[0] || slices.Contains(again, "NOTIFY_SOCKET=x") {
		t.Errorf("second start: %v (computed again, or changed by an append)", again)
	}
	v.cfg = &config.Service{Env: map[string]string{"A": "2"}}
	if env, _, _ := s.startEnv(v); !slices.Contains(env, "A=2") {
		t.Errorf("new config: %v", env)
	}

	file := filepath.Join(t.TempDir(), "env")
	os.WriteFile(file, []byte("B=1\n"), 0o644)
	v.cfg = &config.Service{EnvFiles: []string{file}}
	s.startEnv(v)
	os.WriteFile(file, []byte("B=2\n"), 0o644)
	if env, _, _ := s.startEnv(v); !slices.Contains(env, "B=2") {
		t.Errorf("env file read once only: %v", env)
	}
}

// /dev/null is opened once per supervisor, not per start.
func TestDevNullOnce(t *testing.T) {
	s := New(testReaper)
	a, err := s.devNull()
	if err != nil {
		t.Fatal(err)
	}
	defer s.null.Close()
	if b, _ := s.devNull(); a != b {
		t.Errorf("fd %d, then %d", a, b)
	}
}

// The program's PATH search is kept for the next start while the file
// stays; once it is gone, PATH is searched again.
func TestExecPathKept(t *testing.T) {
	dirA, dirB := t.TempDir(), t.TempDir()
	for _, d := range []string{dirA, dirB} {
		if err := os.WriteFile(filepath.Join(d, "prog"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"PATH=" + dirA + ":" + dirB}
	v := &service{name: "a", cfg: &config.Service{}}
	if p, err := v.execPath("prog", env); err != nil || p != filepath.Join(dirA, "prog") {
		t.Fatalf("first: %q %v", p, err)
	}
	if v.path != filepath.Join(dirA, "prog") {
		t.Errorf("not kept: %q", v.path)
	}
	os.Remove(filepath.Join(dirA, "prog"))
	if p, err := v.execPath("prog", env); err != nil || p != filepath.Join(dirB, "prog") {
		t.Errorf("after removal: %q %v", p, err)
	}
}

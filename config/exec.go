package config

import (
	"path/filepath"
	"time"
)

// Exec is one [exec.NAME] table: a command run to reach a state.
type Exec struct {
	Meta
	Edges
	commandAt Pos               // the line of command, kept past loading (ExecPos)
	Command   []string          `toml:"command"`
	Creates   string            `toml:"creates"` // skip when this path exists
	Unless    []string          `toml:"unless"`  // skip when this command exits 0
	Env       map[string]string `toml:"env"`
	Dir       string            `toml:"dir"`
	Timeout   Duration          `toml:"timeout"` // default 5m
	// RefreshOnly runs the command only when a resource that notifies it changed.
	RefreshOnly bool `toml:"refresh_only"`
}

const defaultExecTimeout = 5 * time.Minute

func validateExec(e *Exec) Errors {
	var errs Errors
	bad := resourceComplainer(&errs, &e.Meta, "exec")
	e.commandAt = e.At("command")
	if len(e.Command) == 0 || e.Command[0] == "" {
		bad("command", "expected command = [\"/bin/prog\", \"arg\"]")
	}
	if e.Creates != "" && !filepath.IsAbs(e.Creates) {
		bad("creates", "creates = %q: expected an absolute path", e.Creates)
	}
	if len(e.Unless) > 0 && e.Unless[0] == "" {
		bad("unless", "unless: expected a command as a list")
	}
	if e.Dir != "" && !filepath.IsAbs(e.Dir) {
		bad("dir", "dir = %q: expected an absolute path", e.Dir)
	}
	if e.Timeout.Duration == 0 {
		e.Timeout.Duration = defaultExecTimeout
	}
	return errs
}

// CommandPos is where command is written (the table's line if not known).
func (e *Exec) CommandPos() Pos {
	if e.commandAt.File != "" {
		return e.commandAt
	}
	return e.Pos
}

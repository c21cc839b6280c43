package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/unit-os/unit/api"
)

type exitCoder interface{ ExitCode() int }

// exitCode is an error that only sets the process exit status (the message
// was already printed).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }
func (e exitCode) ExitCode() int { return int(e) }

func asExitCoder(err error, target *exitCoder) bool { return errors.As(err, target) }

// Exit codes a script can rely on (docs/cli.md, "Exit codes"); systemctl's where
// it has one.
const (
	exitNotRunning    = exitCode(3) // status NAME: not running; status: something failed or the config is in error
	exitNoSuchService = exitCode(4) // no such service
)

// statusExit is `unit status`'s exit code: for one service, 3 unless it is
// up; for all, 3 when any service failed or the config on disk is invalid.
func statusExit(rep api.StatusReply, name string) error {
	if name != "" {
		if len(rep.Services) == 1 && api.ServiceUp(rep.Services[0]) {
			return nil
		}
		return exitNotRunning
	}
	if rep.ConfigError != "" || len(rep.Failed) > 0 {
		return exitNotRunning
	}
	for _, s := range rep.Services {
		if s.State == api.ServiceFailed {
			return exitNotRunning
		}
	}
	return nil
}

// getStatus asks the daemon for the status of one service (or all, with
// name ""); an unknown service is exitNoSuchService, said on stderr. The
// protocol carries errors as text, so the supervisor's "no service" is
// recognised here, in one place.
func getStatus(socket, name string) (api.StatusReply, error) {
	rep, err := callOne[api.StatusReply](context.Background(), socket, api.Request{Cmd: "status", Name: name})
	if err != nil && name != "" && strings.HasPrefix(err.Error(), "no service") {
		fmt.Fprintln(os.Stderr, "unit:", err)
		return rep, exitNoSuchService
	}
	return rep, err
}

// cmdIs answers is-active and is-failed like systemctl: the state on
// stdout (unless -q), and the answer in the exit code.
func cmdIs(cmd string, args []string) error {
	fs := newFlags(cmd)
	quiet := fs.Bool("q", false, "print nothing, answer with the exit code only")
	socket := socketFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fmt.Fprintf(os.Stderr, "usage: unit %s [-q] NAME\n", cmd)
		return exitCode(2)
	}
	rep, err := getStatus(*socket, pos[0])
	if err == exitNoSuchService && !*quiet {
		fmt.Println("unknown")
	}
	if err != nil {
		return err
	}
	st := rep.Services[0]
	if !*quiet {
		fmt.Println(st.State)
	}
	switch cmd {
	case "is-active":
		if !api.ServiceUp(st) {
			return exitNotRunning
		}
	case "is-failed":
		if !st.Failed() {
			return exitCode(1)
		}
	}
	return nil
}

package main

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// Every command's -h/--help prints its flags on stdout and exits 0; a bad
// flag exits 2 with the error and the flags on stderr.
func TestCommandHelp(t *testing.T) {
	for _, cmd := range []string{"run", "check", "apply", "status", "start", "stop", "restart", "logs", "events", "facts", "report", "version", "reboot"} {
		for _, h := range []string{"-h", "--help"} {
			c := exec.Command(unitBin, cmd, h)
			var stderr strings.Builder
			c.Stderr = &stderr
			out, err := c.Output()
			if err != nil || !strings.HasPrefix(string(out), "usage: unit "+cmd) || stderr.Len() != 0 {
				t.Errorf("unit %s %s: %v\nstdout: %s\nstderr: %s", cmd, h, err, out, stderr.String())
			}
		}
		c := exec.Command(unitBin, cmd, "--no-such-flag")
		out, err := c.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "flag provided but not defined: -no-such-flag") {
			t.Errorf("unit %s --no-such-flag: %v\n%s", cmd, err, out)
		}
	}
}

// Command groups answer -h/--help with their subcommands on stdout, exit 0.
func TestGroupHelp(t *testing.T) {
	for _, group := range []string{"pkg", "image"} {
		for _, h := range []string{"-h", "--help", "help"} {
			out, err := exec.Command(unitBin, group, h).Output()
			if err != nil || !strings.Contains(string(out), "usage: unit "+group+" build") {
				t.Errorf("unit %s %s: %v\n%s", group, h, err, out)
			}
		}
		var ee *exec.ExitError
		if _, err := exec.Command(unitBin, group).Output(); !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("unit %s with no subcommand: %v, want exit 2", group, err)
		}
	}
}

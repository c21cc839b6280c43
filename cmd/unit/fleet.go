package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// cmdFleet is `unit fleet ...`: the fleet is its own program, unit-fleet
// (NATS's client, TLS and server stay out of unit, which is every image's
// PID 1); unit finds it beside itself or in PATH and becomes it, as git
// runs git-COMMAND.
func cmdFleet(args []string) error {
	path, err := fleetProgram()
	if err != nil {
		return err
	}
	return syscall.Exec(path, append([]string{"unit-fleet"}, args...), os.Environ())
}

// fleetProgram finds unit-fleet: beside unit first (bin/ after make
// fleet, /bin in an image), then in PATH.
func fleetProgram() (string, error) {
	if self, err := os.Executable(); err == nil {
		if p := filepath.Join(filepath.Dir(self), "unit-fleet"); isRegular(p) {
			return p, nil
		}
	}
	p, err := exec.LookPath("unit-fleet")
	if err != nil {
		return "", errors.Join(fmt.Errorf("unit fleet needs the unit-fleet program (make fleet puts it beside unit)"), err)
	}
	return p, nil
}

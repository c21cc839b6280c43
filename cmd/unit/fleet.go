package main

import (
	"fmt"
	"os"
	"syscall"
)

// cmdFleet is `unit fleet ...`: the fleet is two programs of its own
// (NATS's client and TLS stay out of unit, which is every image's PID 1):
// unit-fleet-server for the broker's serve, token and user, unit-fleet
// for the rest. unit finds the one beside itself or in PATH and becomes
// it, as git runs git-COMMAND.
func cmdFleet(args []string) error {
	name := "unit-fleet"
	if len(args) > 0 && (args[0] == "serve" || args[0] == "token" || args[0] == "user") {
		name = "unit-fleet-server"
	}
	path, err := fleetProgram(name)
	if err != nil {
		return err
	}
	return syscall.Exec(path, append([]string{name}, args...), os.Environ())
}

// fleetProgram finds name for `unit fleet` (helperProgram).
func fleetProgram(name string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		self = ""
	}
	p, err := helperProgram(self, name)
	if err != nil {
		return "", fmt.Errorf("unit fleet needs the %s program: %w (make fleet puts it beside unit)", name, err)
	}
	return p, nil
}

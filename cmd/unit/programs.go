package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// unit's other programs: unit-build (the builders), unit-fleet and
// unit-fleet-server (the fleet), kept out of unit because unit is every
// image's PID 1 and pays in memory for every byte of its binary.
const (
	builderName = "unit-build"
	// initEnv tells unit-build the unit that ran it, for an image's /init.
	initEnv = "UNIT_INIT"
)

// helperProgram finds the program name: beside unit (self) first (bin/
// after make fleet, /bin in an image), then in PATH.
func helperProgram(self, name string) (string, error) {
	if self != "" {
		if p := filepath.Join(filepath.Dir(self), name); isRegular(p) {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s is neither beside %s nor in PATH", name, self)
	}
	return p, nil
}

// isRegular says whether path is a regular file.
func isRegular(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

//go:build builders

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"

	"github.com/unit-os/unit/pkgbuild"
)

// This is unit-build: unit with the package and image builders, which
// `unit pkg` and `unit image` run (builders_off.go). It is also a
// package build's sandbox helper.

func serveSandbox(args []string) { pkgbuild.ServeSandbox(args) }

// imageInit is the unit an image gets as /init: the one that ran this
// program (UNIT_INIT), else unit beside it or in PATH. One of another
// version is refused: the image would boot code other than what was
// built and tested with it (say, a stale bin/unit beside a new build).
func imageInit(self string) (string, error) {
	bin := os.Getenv(initEnv)
	if bin == "" {
		p, err := helperProgram(self, "unit")
		if err != nil {
			return "", fmt.Errorf("the image's /init: %w (make build puts unit beside %s)", err, builderName)
		}
		bin = p
	}
	out, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		return "", fmt.Errorf("the image's /init %s: unit version: %w", bin, err)
	}
	var v buildVersion
	if err := json.NewDecoder(bytes.NewReader(out)).Decode(&v); err != nil {
		return "", fmt.Errorf("the image's /init %s: unit version: %w", bin, err)
	}
	if mine := readVersion(); v != mine {
		return "", fmt.Errorf("the image's /init %s is unit %s, and %s is %s: build both from one tree (make build)", bin, describe(v), builderName, describe(mine))
	}
	return bin, nil
}

// describe is a version as one phrase: version, commit and whether dirty.
func describe(v buildVersion) string {
	s := v.Version
	if v.Commit != "" {
		s += " (commit " + v.Commit
		if v.Dirty {
			s += ", dirty"
		}
		s += ")"
	}
	return s + " " + v.Go
}

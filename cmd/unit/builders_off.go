//go:build !builders

package main

import (
	"fmt"
	"os"
	"syscall"
)

// This is unit, every image's /init: the package and image builders
// (their .deb readers, compressors, HTTP caches and TLS) are not in it,
// so PID 1 does not carry them. They are unit-build, the same main built
// with the tag "builders" (builders_on.go), which `unit pkg` and `unit
// image` become, as `unit fleet` becomes unit-fleet.

// serveSandbox: only unit-build is a package build's sandbox helper.
func serveSandbox([]string) {}

func cmdPkg(args []string) error   { return runBuilder("pkg", args) }
func cmdImage(args []string) error { return runBuilder("image", args) }

// runBuilder becomes `unit-build GROUP ARGS...`, telling it this program
// (UNIT_INIT) for the image's /init, so that the unit one runs is the
// unit that boots. Help needs no unit-build.
func runBuilder(group string, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, groupUsage(group))
		return exitCode(2)
	}
	if isHelp(args[0]) {
		fmt.Println(groupUsage(group))
		return nil
	}
	return execBuilder(append([]string{group}, args...))
}

// builderProgram is unit-build, beside unit or in PATH.
func builderProgram() (self, path string, err error) {
	self, err = os.Executable()
	if err != nil {
		return "", "", fmt.Errorf("the running unit program: %w", err)
	}
	path, err = helperProgram(self, builderName)
	if err != nil {
		return "", "", fmt.Errorf("needs the %s program (the package and image builders): %w (make build puts it beside unit)", builderName, err)
	}
	return self, path, nil
}

// execBuilder replaces this process with unit-build ARGS.
func execBuilder(args []string) error {
	self, path, err := builderProgram()
	if err != nil {
		return err
	}
	env := append(os.Environ(), initEnv+"="+self)
	if err := syscall.Exec(path, append([]string{builderName}, args...), env); err != nil {
		return fmt.Errorf("run %s: %w", path, err)
	}
	return nil
}

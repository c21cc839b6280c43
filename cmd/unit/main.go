// Command unit is PID 1, service supervisor and configuration manager in
// one static binary. Built with the tag "builders" it is unit-build, the
// package and image builders too, which `unit pkg` and `unit image` run
// (builders.go). This file only parses arguments and dispatches.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/unit-os/unit/pid1"
)

func main() {
	serveSandbox(os.Args) // unit-build as a package build's sandbox helper
	if os.Getpid() == 1 {
		pid1.Boot() // never returns
		return
	}
	if err := dispatch(os.Args[1:]); err != nil {
		if _, bare := err.(exitCode); !bare { // a bare exit code was explained already
			printError(os.Stderr, err)
		}
		var ec exitCoder
		if asExitCoder(err, &ec) {
			os.Exit(ec.ExitCode())
		}
		os.Exit(1)
	}
}

func dispatch(args []string) error {
	if len(args) == 0 {
		// Started as /init by a kernel in a container or namespace where it
		// is not pid 1 literally: nothing to do but say how to use it.
		fmt.Fprintln(os.Stderr, usageText())
		return exitCode(2)
	}
	args, err := withMachine(args)
	if err != nil {
		return err
	}
	cmd, rest := args[0], args[1:]
	c, ok := lookup(cmd)
	if !ok {
		return unknownCommand(cmd)
	}
	return c.run(cmd, rest)
}

// printError writes err one fact a line, each "unit: ...": an error of
// several lines ("config DIR:" and then one file:line error a line) has
// its heading, a line ending in ":", joined to each line it heads, so no
// line stands alone without saying what it is about.
func printError(w io.Writer, err error) {
	heading, headed := "", false // headed: a line was printed under heading
	for _, l := range strings.Split(err.Error(), "\n") {
		switch l = strings.TrimSpace(l); {
		case l == "":
		case strings.HasSuffix(l, ":"):
			if headed { // a new heading, not one under the last
				heading, headed = "", false
			}
			heading += l + " "
		default:
			fmt.Fprintf(w, "unit: %s%s\n", heading, l)
			headed = true
		}
	}
	if heading != "" && !headed {
		fmt.Fprintf(w, "unit: %s\n", strings.TrimSpace(heading))
	}
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/unit-os/unit/api"
)

// newFlags returns a flag set that reports errors instead of exiting, and
// accepts flags after positional arguments (`unit logs web -n 5`).
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("unit "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses flags anywhere among args and returns the positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, flagError(fs, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// flagError answers -h/--help with the command's flags on stdout (exit 0),
// and a bad flag with the error and the flags on stderr (exit 2), as flag's
// own ExitOnError would, but through main so PID 1 code never exits.
func flagError(fs *flag.FlagSet, err error) error {
	out := os.Stderr
	code := exitCode(2)
	if errors.Is(err, flag.ErrHelp) {
		out, code = os.Stdout, exitCode(0)
	} else {
		fmt.Fprintf(out, "%s: %v\n", fs.Name(), err)
	}
	printUsage(out, fs)
	return code
}

func socketFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("UNIT_SOCKET")
	if def == "" {
		def = api.DefaultSocket
	}
	return fs.String("socket", def, "control socket path")
}

// isHelp reports whether a command group's first argument asks for help.
func isHelp(arg string) bool { return arg == "-h" || arg == "--help" || arg == "help" }

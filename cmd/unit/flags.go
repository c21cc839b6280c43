package main

import (
	"flag"
	"io"
	"os"

	"unit/api"
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
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func socketFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("UNIT_SOCKET")
	if def == "" {
		def = api.DefaultSocket
	}
	return fs.String("socket", def, "control socket path")
}

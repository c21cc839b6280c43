package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/unit-os/unit/config"
)

// machineUsage is the synopsis of --machine, which is not a command.
const machineUsage = "unit --machine DIR COMMAND [ARGS]"

// synopsis is the usage line of a command or subcommand ("logs", "image
// build"), from the command table: "unit logs [NAME] [-f] ...".
func synopsis(path string) (string, bool) {
	words := strings.Fields(path)
	if len(words) == 0 {
		return "", false
	}
	c, ok := lookup(words[0])
	if !ok {
		return "", false
	}
	name := c.names[0]
	if len(words) > 1 {
		s, ok := c.subcommand(words[1])
		if !ok {
			return "", false
		}
		c, name = s, name+" "+s.names[0]
	}
	return strings.TrimSpace("unit " + name + " " + c.args), true
}

// subcommand finds a group's subcommand by name.
func (c command) subcommand(name string) (command, bool) {
	for _, s := range c.sub {
		if s.names[0] == name {
			return s, true
		}
	}
	return command{}, false
}

// usageLine is "usage: " and the synopsis, for the errors and the help
// of the command at path.
func usageLine(path string) string {
	if s, ok := synopsis(path); ok {
		return "usage: " + s
	}
	return "usage: unit " + path
}

// errUsage is a usage error that shows the command's synopsis.
func errUsage(path string) error { return usageError{errors.New(usageLine(path))} }

// groupUsage lists a group's subcommands' synopses (unit pkg --help).
func groupUsage(group string) string {
	c, _ := lookup(group)
	var b strings.Builder
	for i, s := range c.sub {
		syn, _ := synopsis(group + " " + s.names[0])
		if i == 0 {
			b.WriteString("usage: " + syn)
		} else {
			b.WriteString("\n       " + syn)
		}
	}
	return b.String()
}

// unknownSubcommand says a group has no such subcommand, names the close
// ones, and lists the group's synopses, on stderr: exit 2.
func unknownSubcommand(group, name string) error {
	c, _ := lookup(group)
	var names []string
	for _, s := range c.sub {
		names = append(names, s.names[0])
	}
	msg := fmt.Sprintf("unknown %s command %q", group, name)
	if s := config.SuggestAll(name, names); len(s) > 0 {
		msg += " (did you mean " + strings.Join(s, " or ") + "?)"
	}
	fmt.Fprintf(os.Stderr, "unit: %s\n%s\n", msg, groupUsage(group))
	return exitCode(2)
}

// printUsage writes the synopsis of the command whose flag set fs is, then
// one entry per flag, its argument named as the synopsis names it (flag's
// own PrintDefaults would take a back-quoted word of the help for it).
func printUsage(w io.Writer, fs *flag.FlagSet) {
	path := strings.TrimPrefix(fs.Name(), "unit ")
	syn, _ := synopsis(path)
	fmt.Fprintln(w, usageLine(path))
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if first {
			fmt.Fprintln(w)
			first = false
		}
		left := flagSpelling(f.Name)
		if arg := flagArg(syn, f); arg != "" {
			left += " " + arg
		}
		help := f.Usage
		if d := f.DefValue; d != "" && d != "false" && d != "0" && d != "0s" && !strings.Contains(help, "default") {
			help += " (default " + d + ")"
		}
		fmt.Fprintf(w, "  %s\n        %s\n", left, help)
	})
}

// flagSpelling is how the docs spell a flag: -x for one letter, else --name.
func flagSpelling(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// flagArg names a flag's argument as the synopsis does ("[--store DIR]":
// DIR); none for a boolean flag; PATH for --socket, which no synopsis
// lists.
func flagArg(syn string, f *flag.Flag) string {
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return ""
	}
	re := regexp.MustCompile(`(?:^|[\s\[])` + regexp.QuoteMeta(flagSpelling(f.Name)) + `[ =]([^\s\]]+)`)
	if m := re.FindStringSubmatch(syn); m != nil {
		return m[1]
	}
	if f.Name == "socket" {
		return "PATH"
	}
	return "VALUE"
}

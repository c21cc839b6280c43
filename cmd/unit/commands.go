package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/config"
)

// command is one row of the command table: the usage text, `unit help`,
// shell completion and "did you mean" all come from here.
type command struct {
	names   []string // the name first, then aliases
	args    string   // synopsis after the name
	summary string
	sub     []command // subcommands (pkg, image, fleet, completion): their usage and completion
	remote  bool      // talks to a daemon: works with --machine DIR
	run     func(name string, args []string) error
}

// commands is the table, in the order `unit help` lists it.
func commands() []command {
	return []command{
		{names: []string{"version", "--version"}, args: "[--json]", summary: "the build's version", run: func(_ string, a []string) error { return cmdVersion(a) }},
		{names: []string{"run"}, args: "--config DIR [--state DIR] [--socket PATH]", summary: "supervise and converge in the foreground", run: func(_ string, a []string) error { return cmdRun(a) }},
		{names: []string{"check"}, args: "[--config DIR] [--json] [FILE.toml|DIR...]", summary: "validate; errors as file:line: message", run: func(_ string, a []string) error { return cmdCheck(a) }},
		{names: []string{"apply"}, remote: true, args: "[--config DIR] [--once] [--dry-run] [--json] [--detailed-exitcodes] [--state DIR]", summary: "converge now", run: func(_ string, a []string) error { return cmdApply(a) }},
		{names: []string{"status"}, remote: true, args: "[NAME] [--json]", summary: "services, or one service", run: func(_ string, a []string) error { return cmdStatus(a) }},
		{names: []string{"start"}, remote: true, args: "NAME", summary: "start a service", run: cmdControl},
		{names: []string{"stop"}, remote: true, args: "NAME", summary: "stop a service", run: cmdControl},
		{names: []string{"restart"}, remote: true, args: "NAME", summary: "restart a service", run: cmdControl},
		{names: []string{"is-active"}, remote: true, args: "[-q] NAME", summary: "answer in the exit code, as systemctl", run: cmdIs},
		{names: []string{"is-failed"}, remote: true, args: "[-q] NAME", summary: "answer in the exit code, as systemctl", run: cmdIs},
		{names: []string{"is-system-running"}, remote: true, args: "[--wait] [--timeout DURATION] [-q]", summary: "unit's own state (starting, running, degraded, stopping), as systemctl", run: func(_ string, a []string) error { return cmdIsSystemRunning(a) }},
		{names: []string{"logs"}, remote: true, args: "[NAME] [-f] [-n N] [--since WHEN] [--json]", summary: "a service's output", run: func(_ string, a []string) error { return cmdLogs(a) }},
		{names: []string{"events"}, remote: true, args: "[--json]", summary: "follow state changes", run: func(_ string, a []string) error { return cmdEvents(a) }},
		{names: []string{"checks"}, remote: true, args: "[--wait DURATION] [--json]", summary: "ask every [check.NAME]; exit 1 if one fails", run: func(_ string, a []string) error { return cmdChecks(a) }},
		{names: []string{"health"}, remote: true, args: "[--checks]", summary: "one Nagios plugin line for the machine; exit 0/1/2/3", run: func(_ string, a []string) error { return cmdHealth(a) }},
		{names: []string{"metrics"}, remote: true, summary: "the machine in Prometheus text format (services, the engine, unit itself)", run: func(_ string, a []string) error { return cmdMetrics(a) }},
		{names: []string{"web"}, args: "[--listen HOST:PORT] [--auth FILE] [--control] [--hosts NAMES] [--state DIR]", summary: "the status page ([web] runs it as a service)", run: func(_ string, a []string) error { return cmdWeb(a) }},
		{names: []string{"facts"}, args: "[--json] [--config DIR] [--state DIR]", summary: "what templates see as .facts", run: func(_ string, a []string) error { return cmdFacts(a) }},
		{names: []string{"report"}, args: "[--json] [--state DIR]", summary: "the latest convergence report", run: func(_ string, a []string) error { return cmdReport(a) }},
		{names: []string{"update"}, remote: true, args: "[--sha256 ID] [--no-reboot] SOURCE | --rollback", summary: "install an update bundle into the other root slot; boot it on trial", run: func(_ string, a []string) error { return cmdUpdate(a) }},
		{names: []string{"reboot"}, remote: true, summary: "stop services, reboot", run: cmdPower},
		{names: []string{"poweroff"}, remote: true, summary: "stop services, power off", run: cmdPower},
		{names: []string{"halt"}, remote: true, summary: "stop services, halt", run: cmdPower},
		{names: []string{"pkg"}, args: "build|ls|show|gc|update|push|pull ...", summary: "package recipes and the store", sub: []command{
			{names: []string{"build"}, args: "RECIPE.toml... [--store DIR] [-j N]"},
			{names: []string{"ls"}, args: "[--store DIR] [--json]"},
			{names: []string{"show"}, args: "NAME [--store DIR]"},
			{names: []string{"gc"}, args: "[SYSTEM.toml...] [--store DIR]"},
			{names: []string{"update"}, args: "RECIPE.toml|NAME... [--stale] [--store DIR]"},
			{names: []string{"push"}, args: "RECIPE.toml|NAME... [--to PLACE]... [--store DIR]"},
			{names: []string{"pull"}, args: "RECIPE.toml|NAME... [--from PLACE]... [--store DIR]"},
		}, run: func(_ string, a []string) error { return cmdPkg(a) }},
		{names: []string{"image"}, args: "build|run|test ...", summary: "build, boot and test images", sub: []command{
			{names: []string{"build"}, args: "SYSTEM.toml -o DIR [--format initramfs|disk|update] [--release] [--cache DIR] [--fleet PATH]"},
			{names: []string{"run"}, args: "DIR [--forward HOST:GUEST]... [--format initramfs|disk] [--nic MODEL] [--disk-bus virtio|ahci] [-m MEM] [--append ARGS] [--reboot]"},
			{names: []string{"test"}, args: "SYSTEM.toml [-o DIR] [--format initramfs|disk] [--timeout DURATION] [-m MEM] [--cache DIR] [--json]"},
		}, run: func(_ string, a []string) error { return cmdImage(a) }},
		{names: []string{"fleet"}, args: "serve|token|user|agent|run|ls|check|resource|put|get|rm|disable|enable|content ...", summary: "the fleet on NATS JetStream (runs unit-fleet)", sub: subs("serve", "token", "user", "agent", "run", "ls", "check", "resource", "put", "get", "rm", "disable", "enable", "content"), run: func(_ string, a []string) error { return cmdFleet(a) }},
		{names: []string{"completion"}, args: "bash|zsh", summary: "a shell completion script", sub: subs("bash", "zsh"), run: func(_ string, a []string) error { return cmdCompletion(a) }},
		{names: []string{"man"}, summary: "the manual page (unit man | man -l -)", run: func(_ string, a []string) error { return cmdMan(a) }},
		{names: []string{"help", "-h", "--help"}, summary: "this list", run: func(string, []string) error { fmt.Println(usageText()); return nil }},
	}
}

// subs are subcommands known by name only (their program has the usage).
func subs(names ...string) []command {
	out := make([]command, len(names))
	for i, n := range names {
		out[i] = command{names: []string{n}}
	}
	return out
}

// usageText is the command list.
func usageText() string {
	var b strings.Builder
	b.WriteString("usage: unit COMMAND [ARGS]\n\n")
	for _, c := range commands() {
		left := c.names[0]
		if c.args != "" {
			left += " " + c.args
		}
		fmt.Fprintf(&b, "  %-50s %s\n", left, c.summary)
	}
	b.WriteString("\nunit COMMAND --help shows a command's flags. The control socket is\n/run/unit/unit.sock; --socket or UNIT_SOCKET elsewhere; unit --machine DIR\nCOMMAND talks to the machine `unit image run DIR` booted.")
	return b.String()
}

// lookup finds the command named (or aliased) name.
func lookup(name string) (command, bool) {
	for _, c := range commands() {
		for _, n := range c.names {
			if n == name {
				return c, true
			}
		}
	}
	return command{}, false
}

// unknownCommand says so, with every closest command when there are any.
func unknownCommand(name string) error {
	var names []string
	for _, c := range commands() {
		names = append(names, c.names[0])
	}
	name = filepath.Base(name)
	if s := config.SuggestAll(name, names); len(s) > 0 {
		return usageError{fmt.Errorf("unknown command %q (did you mean %s?); unit help lists them", name, strings.Join(s, " or "))}
	}
	return usageError{fmt.Errorf("unknown command %q; unit help lists them", name)}
}

// cmdCompletion prints a bash completion script made from the table:
// `source <(unit completion bash)`.
func cmdCompletion(args []string) error {
	if len(args) != 1 || (args[0] != "bash" && args[0] != "zsh") {
		if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Println(usageLine("completion") + "\n\n  source <(unit completion bash)   # in ~/.bashrc\n  source <(unit completion zsh)    # in ~/.zshrc")
			return nil
		}
		return errUsage("completion")
	}
	if args[0] == "zsh" {
		// zsh runs bash completion functions through bashcompinit.
		fmt.Println("#compdef unit\nautoload -U +X bashcompinit && bashcompinit")
	}
	var top []string
	subs := map[string][]string{}
	for _, c := range commands() {
		if strings.HasPrefix(c.names[0], "-") {
			continue
		}
		top = append(top, c.names[0])
		for _, s := range c.sub {
			subs[c.names[0]] = append(subs[c.names[0]], s.names[0])
		}
	}
	var cases []string
	keys := make([]string, 0, len(subs))
	for k := range subs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cases = append(cases, fmt.Sprintf("      %s) COMPREPLY=($(compgen -W %q -- \"$cur\")) ;;", k, strings.Join(subs[k], " ")))
	}
	fmt.Fprintf(os.Stdout, `# bash completion for unit; source <(unit completion bash)
_unit() {
  local cur=${COMP_WORDS[COMP_CWORD]}
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W %q -- "$cur"))
    return
  fi
  case ${COMP_WORDS[1]} in
%s
      start|stop|restart|status|logs|is-active|is-failed)
        COMPREPLY=($(compgen -W "$(unit status --json 2>/dev/null | sed -n 's/.*"name": *"\([^"]*\)".*/\1/p')" -- "$cur")) ;;
      *) COMPREPLY=($(compgen -f -- "$cur")) ;;
  esac
}
complete -F _unit unit
`, strings.Join(top, " "), strings.Join(cases, "\n"))
	return nil
}

// usageError is a usage mistake: its message is printed, the exit status is 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) ExitCode() int { return 2 }

// withMachine turns `unit --machine DIR COMMAND ARGS` into COMMAND with
// its socket set to the machine's control port.
func withMachine(args []string) ([]string, error) {
	dir, rest := "", args
	switch {
	case len(args) > 0 && strings.HasPrefix(args[0], "--machine="):
		dir, rest = strings.TrimPrefix(args[0], "--machine="), args[1:]
	case len(args) > 0 && args[0] == "--machine":
		if len(args) < 2 {
			return nil, usageError{errors.New("usage: " + machineUsage)}
		}
		dir, rest = args[1], args[2:]
	default:
		return args, nil
	}
	if dir == "" || len(rest) == 0 {
		return nil, usageError{errors.New("usage: " + machineUsage)}
	}
	c, ok := lookup(rest[0])
	if !ok {
		return nil, unknownCommand(rest[0])
	}
	if !c.remote {
		return nil, usageError{fmt.Errorf("--machine: unit %s does not talk to a machine (status, logs, start, stop, restart, apply, events, is-active, is-failed, checks, health, metrics, update, reboot, poweroff, halt do)", rest[0])}
	}
	return append([]string{rest[0], "--socket", api.MachinePrefix + dir}, rest[1:]...), nil
}

// cmdMan prints unit(8) in troff, made from the command table.
func cmdMan(args []string) error {
	if len(args) > 0 {
		if isHelp(args[0]) {
			fmt.Println(usageLine("man") + "   (unit man | man -l -)")
			return nil
		}
		return errUsage("man")
	}
	var b strings.Builder
	b.WriteString(`.TH UNIT 8 "" "unit" "System Administration"
.SH NAME
unit \- PID 1, service supervisor, configuration manager and image builder in one binary
.SH SYNOPSIS
.B unit
[\fB\-\-machine\fR \fIDIR\fR]
.I COMMAND
[\fIARGS\fR]
.SH DESCRIPTION
As PID 1, unit mounts the early file systems, loads drivers, converges the
configuration in /etc/unit/*.toml and supervises its services, in one event
loop. On a host, \fBunit run\fR does the same in the foreground. Every other
command talks to the running daemon over its control socket
(/run/unit/unit.sock; \fB\-\-socket\fR or UNIT_SOCKET elsewhere), or with
\fB\-\-machine\fR \fIDIR\fR to the machine \fBunit image run\fR \fIDIR\fR booted.
.SH COMMANDS
`)
	for _, c := range commands() {
		if strings.HasPrefix(c.names[0], "-") {
			continue
		}
		fmt.Fprintf(&b, ".TP\n.B %s", troffEscape(c.names[0]))
		if c.args != "" {
			fmt.Fprintf(&b, " %s", troffEscape(c.args))
		}
		fmt.Fprintf(&b, "\n%s.\n", troffEscape(c.summary))
	}
	b.WriteString(`.SH EXIT STATUS
0 success; 1 an error; 2 a usage error. \fBstatus\fR \fINAME\fR and \fBis\-active\fR:
3 the service is not up, 4 no such service. \fBapply \-\-detailed\-exitcodes\fR:
0 nothing changed, 2 changed, 4 failures, 6 both.
.SH FILES
.TP
/etc/unit/*.toml
the configuration, merged in name order
.TP
/run/unit/unit.sock
the control socket (root only)
.SH SEE ALSO
\fBunit COMMAND \-\-help\fR; docs/ in the source tree.
`)
	fmt.Print(b.String())
	return nil
}

// troffEscape keeps text literal in a man page.
func troffEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

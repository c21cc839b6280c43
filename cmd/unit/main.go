// Command unit is PID 1, service supervisor, configuration manager, package
// builder and image builder in one static binary. This file only parses
// arguments and dispatches.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"unit/pid1"
)

func main() {
	if os.Getpid() == 1 && !isPkgSandbox(os.Args) {
		pid1.Boot() // never returns
		return
	}
	if err := dispatch(os.Args[1:]); err != nil {
		if _, bare := err.(exitCode); !bare { // a bare exit code was explained already
			fmt.Fprintln(os.Stderr, "unit:", err)
		}
		var ec exitCoder
		if asExitCoder(err, &ec) {
			os.Exit(ec.ExitCode())
		}
		os.Exit(1)
	}
}

const usage = `usage: unit COMMAND [ARGS]

  version [--json]
  run    --config DIR [--state DIR] [--socket PATH]   supervise and converge in the foreground
  check  --config DIR                                  validate; errors as file:line: message
  apply  [--config DIR] [--once] [--dry-run]           converge now
  status [NAME] [--json]
  start|stop|restart NAME
  is-active|is-failed [-q] NAME                      answer in the exit code, as systemctl
  logs   [-f] [-n N] NAME
  events [--json]
  facts  [--json] [--config DIR]                     what templates see as .facts
  report [--json] [--state DIR]                      the latest convergence report
  reboot | poweroff | halt
  pkg    build RECIPE.toml... [--store DIR] | ls | show NAME | gc [SYSTEM.toml...] | update NAME...
  image  build SYSTEM.toml -o DIR [--format initramfs|disk] [--cache DIR]
  image  run DIR [--forward HOST:GUEST]... [--format F] [--nic MODEL] [--disk-bus virtio|ahci] [-m MEM]

The control socket is /run/unit/unit.sock; --socket or UNIT_SOCKET elsewhere.`

func dispatch(args []string) error {
	if len(args) == 0 {
		// Started as /init by a kernel in a container or namespace where it
		// is not pid 1 literally: nothing to do but say how to use it.
		fmt.Fprintln(os.Stderr, usage)
		return exitCode(2)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "version", "--version":
		return cmdVersion(rest)
	case "run":
		return cmdRun(rest)
	case "check":
		return cmdCheck(rest)
	case "apply":
		return cmdApply(rest)
	case "status":
		return cmdStatus(rest)
	case "start", "stop", "restart":
		return cmdControl(cmd, rest)
	case "is-active", "is-failed":
		return cmdIs(cmd, rest)
	case "logs":
		return cmdLogs(rest)
	case "events":
		return cmdEvents(rest)
	case "reboot", "poweroff", "halt":
		return cmdPower(cmd, rest)
	case "image":
		return cmdImage(rest)
	case "facts":
		return cmdFacts(rest)
	case "report":
		return cmdReport(rest)
	case "pkg":
		return cmdPkg(rest)
	case "help", "-h", "--help":
		fmt.Println(usage)
		return nil
	}
	fmt.Fprintln(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", filepath.Base(cmd))
}

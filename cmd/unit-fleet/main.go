// Command unit-fleet is the fleet side of unit on NATS JetStream, its own
// program: NATS's client and TLS stay out of unit, which is every image's
// PID 1, and the broker (unit-fleet-server) stays out of it (docs/fleet.md).
// `unit fleet ...` runs it.
//
// On a node ([fleet] agent = true runs it as the service unit-fleet):
//
//	unit-fleet agent [--url tls://HOST:4222] [--state DIR] [--groups-from role,dc] ...
//
// From an operator's machine (--url, --creds, --ca or $UNIT_FLEET_URL,
// $UNIT_FLEET_CREDS, $UNIT_FLEET_CA):
//
//	unit-fleet run [--where K=V]... CMD [NAME]     status, health, checks, metrics, logs NAME, start|stop|restart NAME, apply [--dry-run]
//	unit-fleet ls [--where K=V]...                 discovery
//	unit-fleet check [--where K=V]...              one Nagios line for the fleet; exit 0/1/2/3
//	unit-fleet resource [--where K=V]... 'KIND NAME KEY=VALUE...'
//	unit-fleet update [--where K=V]... [--no-reboot] update.tar
//	unit-fleet put KEY FILE | get KEY | rm KEY     desired state: all, group.G, node.ID
//	unit-fleet disable NODE [--reason R] | enable NODE
//	unit-fleet content get|put URL SUM | push URL DIR | ls URL   blobs by sha256 (unit's helper for nats:// caches)
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand.
type command struct {
	args, summary string
	run           func(ctx context.Context, log *slog.Logger, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"agent":    {"[--url URL] [--state DIR] [--groups-from F,...]", "a node's agent: layers, status, answers", agentCmd},
		"run":      {"[--where K=V]... CMD [NAME]", "ask every matching node", run},
		"ls":       {"[--where K=V]...", "the matching nodes and their facts", ls},
		"check":    {"[--where K=V]...", "one Nagios line for the fleet; exit 0/1/2/3", check},
		"resource": {"[--where K=V]... [--dry-run] 'KIND NAME KEY=VALUE...'", "apply one resource once on every matching node", resource},
		"update":   {"[--where K=V]... [--no-reboot] BUNDLE", "put an update bundle in the content store and have each node install it", updateNodes},
		"put":      {"KEY FILE", "set a layer of desired state (all, group.G, node.ID)", put},
		"get":      {"KEY", "print a layer", get},
		"rm":       {"KEY", "delete a layer", rm},
		"content":  {"get|put URL SUM, push URL DIR, ls URL", "blobs by sha256 in the content store (unit's helper for nats:// caches)", contentCmd},
		"disable":  {"NODE [--reason R]", "put a node in maintenance: not alerted on", disable},
		"enable":   {"NODE", "take a node out of maintenance", enable},
	}
}

func usage() string {
	var b strings.Builder
	b.WriteString("usage: unit-fleet COMMAND [flags]\n(the broker's serve, token and user are unit-fleet-server's)\n\n")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  %-9s %-52s %s\n", n, cmds[n].args, cmds[n].summary)
	}
	return b.String()
}

// exitError carries an exit code (check's Nagios states).
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit %d", int(e)) }

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		fmt.Print(usage())
		return
	}
	c, ok := commands()[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "unit-fleet: unknown command %q\n%s", os.Args[1], usage())
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err := c.run(ctx, log, os.Args[2:])
	var code exitError
	switch {
	case err == nil:
	case errors.As(err, &code):
		os.Exit(int(code))
	default:
		fmt.Fprintln(os.Stderr, "unit-fleet "+os.Args[1]+":", err)
		os.Exit(1)
	}
}

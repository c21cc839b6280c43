package main

import (
	"context"
	"flag"
	"log/slog"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/cm"
	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/fleet/agent"
	"github.com/unit-os/unit/platform"
)

func agentCmd(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("agent", flag.ExitOnError)
	url := fs.String("url", "", "the broker, tls://HOST:4222 (default: the platform fact fleet_url)")
	node := fs.String("node", "", "this node's id (default: the platform's instance_id, else the hostname)")
	var groups listFlag
	fs.Var(&groups, "group", "a group this node is in (repeatable)")
	from := fs.String("groups-from", "", "platform facts whose values are groups, e.g. role,dc")
	cfgDir := fs.String("config", "/etc/unit", "unit's config directory")
	state := fs.String("state", config.FleetState, "the node's key, credentials and last good layers")
	socket := fs.String("socket", env("UNIT_SOCKET", api.DefaultSocket), "unit's control socket ($UNIT_SOCKET, which unit sets for its services)")
	unitState := fs.String("unit-state", env("UNIT_STATE", cm.StateDir), "unit's state directory, where its platform facts are ($UNIT_STATE, which unit sets for its services)")
	tokenFile := fs.String("token-file", platform.FleetTokenPath, "the provisioning token (first boot only; PID 1 leaves a seed's fleet_token there, 0600)")
	imds := fs.String("imds", "auto", "read EC2-style IMDSv2 metadata into the platform facts: auto (when no seed gave facts), on, off")
	parseArgs(fs, args)
	return agent.Run(ctx, agent.Config{URL: *url, Node: *node, Groups: groups, GroupsFrom: *from, ConfigDir: *cfgDir, State: *state,
		Socket: *socket, UnitState: *unitState, TokenFile: *tokenFile, IMDS: *imds, Log: log})
}

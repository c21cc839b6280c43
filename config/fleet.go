package config

import (
	"fmt"
	"net"
	"strings"
)

// Fleet is the [fleet] table: this system joins a fleet on NATS
// JetStream through the unit-fleet agent, a supervised service (PID 1
// carries none of NATS: docs/fleet.md). Without agent = true nothing of
// the fleet is in the image or runs.
type Fleet struct {
	// Agent runs `unit-fleet agent` as the service unit-fleet; the image
	// builder puts /bin/unit-fleet in (on a host, Loader.Fleet finds it).
	Agent bool `toml:"agent"`
	// URL is the broker, tls://HOST:PORT (several, comma-separated, for
	// a cluster); "" takes the platform's fact fleet_url, so one image
	// serves every fleet.
	URL string `toml:"url"`
	// GroupsFrom are platform facts whose values are this node's groups
	// (role = "web" puts it in group web: layer group.web).
	GroupsFrom []string `toml:"groups_from"`
	Pos        Pos      `toml:"-"`
	agentAt    Pos      // the agent key, for an error in finding unit-fleet
}

// FleetService is the service [fleet] adds.
const FleetService = "unit-fleet"

// FleetProgram is the unit-fleet program in an image.
const FleetProgram = "/bin/unit-fleet"

// FleetState is where the agent keeps its key, its credentials and the
// last good layers: the data partition, so a node keeps its identity and
// converges with the broker down.
const FleetState = "/var/lib/unit-fleet"

func validateFleet(f *Fleet, at func(key string) Pos) Errors {
	var errs Errors
	bad := complainer(&errs, at, "[fleet]")
	f.agentAt = at("agent")
	if !f.Agent && (f.URL != "" || len(f.GroupsFrom) > 0) {
		bad("agent", "url and groups_from need agent = true")
	}
	if f.URL != "" {
		for _, u := range strings.Split(f.URL, ",") {
			if err := checkBrokerURL(strings.TrimSpace(u)); err != nil {
				bad("url", "url = %q: %v", f.URL, err)
				break
			}
		}
	}
	for _, g := range f.GroupsFrom {
		if !IsName(g) {
			bad("groups_from", "groups_from: %q is not a fact name (letters, digits, - and _)", g)
		}
	}
	return errs
}

// checkBrokerURL accepts tls://HOST:PORT; nats:// only on loopback (a
// fleet's traffic is authenticated and encrypted, and a node's
// credentials must not cross a network in clear).
func checkBrokerURL(u string) error {
	scheme, hostport, ok := strings.Cut(u, "://")
	host, port, err := net.SplitHostPort(hostport)
	if !ok || err != nil || host == "" || port == "" || strings.ContainsAny(hostport, "/?#@ ") {
		return fmt.Errorf("expected tls://HOST:PORT, e.g. tls://fleet.example.net:4222")
	}
	switch scheme {
	case "tls":
		return nil
	case "nats":
		if IsLoopback(hostport) {
			return nil
		}
		return fmt.Errorf("nats:// is plain text: use tls:// (nats:// only on loopback)")
	}
	return fmt.Errorf("scheme %q: expected tls://", scheme)
}

// addFleet adds the agent's service a system asks for, its program found
// by find (nil: FleetProgram).
func addFleet(c *Config, find func() (string, error)) Errors {
	f := c.Fleet
	if !f.Agent {
		return nil
	}
	if prev := c.Services[FleetService]; prev != nil {
		return Errors{{prev.Pos, fmt.Sprintf("service %q: [fleet] (at %s) defines it; rename this one", FleetService, f.Pos)}}
	}
	prog := FleetProgram
	if find != nil {
		p, err := find()
		if err != nil {
			return Errors{{f.agentAt, fmt.Sprintf("[fleet] agent = true: %v", err)}}
		}
		prog = p
	}
	exec := []string{prog, "agent", "--state", FleetState}
	if f.URL != "" {
		exec = append(exec, "--url", strings.ReplaceAll(f.URL, " ", ""))
	}
	if len(f.GroupsFrom) > 0 {
		exec = append(exec, "--groups-from", strings.Join(f.GroupsFrom, ","))
	}
	s := &Service{Exec: exec, Restart: RestartAlways}
	s.Meta = Meta{Name: FleetService, Pos: f.Pos, kind: "service"}
	c.Services[FleetService] = s
	return nil
}

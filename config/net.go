package config

import (
	"fmt"
	"net"
)

// Net is one [net.NAME] table: the interface NAME (e.g. eth0), or, with
// mac, whatever interface has that address (NAME is then only a label).
//
//	[net.eth0]
//	dhcp = true
//
//	[net.uplink]
//	mac       = "52:54:00:12:34:56"
//	addresses = ["10.0.2.15/24"]
//	routes    = [{ to = "0.0.0.0/0", via = "10.0.2.2" }]
type Net struct {
	Meta
	MAC       string     `toml:"mac"`
	DHCP      bool       `toml:"dhcp"`
	Addresses []string   `toml:"addresses"` // CIDR, e.g. "10.0.2.15/24"
	Routes    []NetRoute `toml:"routes"`
	MTU       int        `toml:"mtu"`
	// DHCPTimeout bounds one lease attempt (default 10s).
	DHCPTimeout Duration `toml:"dhcp_timeout"`
}

// NetRoute is a route via a gateway, or (without via) on the link.
type NetRoute struct {
	To  string `toml:"to"` // CIDR; "default" = 0.0.0.0/0
	Via string `toml:"via"`
}

func validateNet(n *Net) Errors {
	var errs Errors
	at := n.At
	if n.MAC != "" {
		if _, err := net.ParseMAC(n.MAC); err != nil {
			errs = append(errs, Error{at("mac"), fmt.Sprintf("mac %q: want a hardware address like 52:54:00:12:34:56", n.MAC)})
		}
	}
	if !n.DHCP && len(n.Addresses) == 0 {
		errs = append(errs, Error{n.Pos, fmt.Sprintf("net %q: set dhcp = true or addresses = [\"10.0.2.15/24\"]", n.Name)})
	}
	for _, a := range n.Addresses {
		if _, _, err := net.ParseCIDR(a); err != nil {
			errs = append(errs, Error{at("addresses"), fmt.Sprintf("address %q: want CIDR, e.g. 10.0.2.15/24", a)})
		}
	}
	for _, r := range n.Routes {
		if r.To != "default" {
			if _, _, err := net.ParseCIDR(r.To); err != nil {
				errs = append(errs, Error{at("routes"), fmt.Sprintf("route to %q: want CIDR or \"default\"", r.To)})
			}
		}
		if r.Via != "" && net.ParseIP(r.Via) == nil {
			errs = append(errs, Error{at("routes"), fmt.Sprintf("route via %q: want an IP address", r.Via)})
		}
	}
	if n.MTU != 0 && (n.MTU < 68 || n.MTU > 65535) {
		errs = append(errs, Error{at("mtu"), fmt.Sprintf("mtu %d: want 68-65535", n.MTU)})
	}
	if n.DHCPTimeout.Duration < 0 {
		errs = append(errs, Error{at("dhcp_timeout"), "dhcp_timeout must not be negative"})
	}
	return errs
}

package cm

import (
	"context"
	"fmt"
	"net"
	"reflect"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/config"
)

// netRes brings one interface up with its static addresses and routes,
// or with a DHCPv4 lease (netdhcp.go). It is checked on every pass
// of the engine, and rtnetlink's link and address changes start a pass
// (netwatch.go): a removed address or a downed link comes back at once.
type netRes struct {
	n   config.Net
	env *env
}

func newNet(n *config.Net, b *builder) *netRes {
	c := *n
	c.Pos = config.Pos{}
	return &netRes{n: c, env: b.env}
}

func (r *netRes) ID() string         { return "net:" + r.n.Name }
func (r *netRes) Notifies() []string { return nil }
func (r *netRes) Watches() []string  { return nil }
func (r *netRes) Same(o Resource) bool {
	x, ok := o.(*netRes)
	return ok && reflect.DeepEqual(r.n, x.n)
}

func (r *netRes) Check(ctx context.Context) ([]Delta, error) { return r.run(ctx, false) }
func (r *netRes) Apply(ctx context.Context) ([]Delta, error) { return r.run(ctx, true) }

// link finds the interface: by MAC when one is given, else by name.
func (r *netRes) link() (netlink.Link, error) {
	if r.n.MAC == "" {
		l, err := netlink.LinkByName(r.n.Name)
		if err != nil {
			return nil, fmt.Errorf("no interface %q: %w", r.n.Name, err)
		}
		return l, nil
	}
	want, err := net.ParseMAC(r.n.MAC)
	if err != nil {
		return nil, err
	}
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	for _, l := range links {
		if strings.EqualFold(l.Attrs().HardwareAddr.String(), want.String()) {
			return l, nil
		}
	}
	return nil, fmt.Errorf("no interface with MAC %s", r.n.MAC)
}

func (r *netRes) run(ctx context.Context, apply bool) ([]Delta, error) {
	l, err := r.link()
	if err != nil {
		return nil, err
	}
	name := l.Attrs().Name
	var what []Delta
	if mtu := r.n.MTU; mtu != 0 && l.Attrs().MTU != mtu {
		what = append(what, delta(name+" mtu", fmt.Sprint(l.Attrs().MTU), fmt.Sprint(mtu)))
		if apply {
			if err := netlink.LinkSetMTU(l, mtu); err != nil {
				return nil, fmt.Errorf("%s: set mtu: %w", name, err)
			}
		}
	}
	if l.Attrs().Flags&net.FlagUp == 0 {
		what = append(what, delta(name, "down", "up"))
		if apply {
			if err := netlink.LinkSetUp(l); err != nil {
				return nil, fmt.Errorf("%s: set up: %w", name, err)
			}
		}
	}
	addrs, err := netlink.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("%s: list addresses: %w", name, err)
	}
	have := map[string]bool{}
	hasV4, renew := false, ""
	for _, a := range addrs {
		have[a.IPNet.String()] = true
		// A deprecated address is a DHCP lease past its renewal time.
		if a.IP.To4() != nil && a.IP.IsGlobalUnicast() {
			if a.Flags&unix.IFA_F_DEPRECATED == 0 {
				hasV4 = true
			} else {
				renew = a.IPNet.String() + " (renewal due)"
			}
		}
	}
	for _, s := range r.n.Addresses {
		a, err := netlink.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%s: address %q: %w", name, s, err)
		}
		if have[a.IPNet.String()] {
			continue
		}
		what = append(what, delta(name+" address", "", s))
		if apply {
			if err := netlink.AddrReplace(l, a); err != nil {
				return nil, fmt.Errorf("%s: add address %s: %w", name, s, err)
			}
		}
		hasV4 = hasV4 || a.IP.To4() != nil
	}
	for _, rt := range r.n.Routes {
		d, err := r.route(ctx, l, rt, apply)
		if err != nil {
			return nil, err
		}
		what = append(what, d...)
	}
	if r.n.DHCP && !hasV4 {
		if !apply {
			return append(what, delta(name+" dhcp", renew, "lease")), nil
		}
		addr, err := r.dhcp(ctx, l)
		if err != nil {
			return nil, err
		}
		what = append(what, delta(name+" dhcp", renew, addr))
	}
	return what, nil
}

// route makes sure rt is in the main table on l.
func (r *netRes) route(ctx context.Context, l netlink.Link, rt config.NetRoute, apply bool) ([]Delta, error) {
	to := rt.To
	if to == "default" {
		to = "0.0.0.0/0"
	}
	_, dst, err := net.ParseCIDR(to)
	if err != nil {
		return nil, fmt.Errorf("route to %q: %w", rt.To, err)
	}
	want := &netlink.Route{LinkIndex: l.Attrs().Index, Dst: dst}
	if rt.Via != "" {
		want.Gw = net.ParseIP(rt.Via)
	} else {
		want.Scope = netlink.SCOPE_LINK
	}
	family := netlink.FAMILY_V4
	if dst.IP.To4() == nil {
		family = netlink.FAMILY_V6
	}
	routes, err := netlink.RouteList(l, family)
	if err != nil {
		return nil, fmt.Errorf("%s: list routes: %w", l.Attrs().Name, err)
	}
	for _, have := range routes {
		hd := have.Dst
		if hd == nil {
			_, hd, _ = net.ParseCIDR("0.0.0.0/0")
			if family == netlink.FAMILY_V6 {
				_, hd, _ = net.ParseCIDR("::/0")
			}
		}
		if hd.String() == dst.String() && have.Gw.Equal(want.Gw) {
			return nil, nil
		}
	}
	d := delta(l.Attrs().Name+" route", "", rt.To+viaText(rt.Via))
	if apply {
		if err := netlink.RouteReplace(want); err != nil {
			return nil, fmt.Errorf("%s: route %s%s: %w", l.Attrs().Name, rt.To, viaText(rt.Via), err)
		}
	}
	return []Delta{d}, nil
}

func viaText(via string) string {
	if via == "" {
		return ""
	}
	return " via " + via
}

// RetriesOnFailure: a DHCP server or a link comes back without an event
// of ours (a retrier).
func (r *netRes) RetriesOnFailure() bool { return true }

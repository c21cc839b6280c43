package cm

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/vishvananda/netlink"
)

// defaultDHCPTimeout bounds one DHCP exchange (with retries) on l.
const defaultDHCPTimeout = 10 * time.Second

// resolvConf is where a lease's DNS servers go.
const resolvConf = "/etc/resolv.conf"

// dhcp gets a DHCPv4 lease on l and configures its address, routes and
// DNS servers (/etc/resolv.conf). The exchange is insomniacslk/dhcp's
// nclient4; what is done with the lease is what u-root's dhclient did
// (same request, link wait, retries and configuration), without its
// DHCPv6 half, which the kind does not offer and which cost PID 1 about
// 150 KB of binary.
func (r *netRes) dhcp(ctx context.Context, l netlink.Link) (string, error) {
	timeout := r.n.DHCPTimeout.Duration
	if timeout == 0 {
		timeout = defaultDHCPTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	name := l.Attrs().Name
	if err := waitLinkUp(ctx, name, timeout/2); err != nil {
		return "", fmt.Errorf("%s: dhcp: %w", name, err)
	}
	client, err := nclient4.New(name, nclient4.WithTimeout(timeout/3), nclient4.WithRetry(2))
	if err != nil {
		return "", fmt.Errorf("%s: dhcp: %w", name, err)
	}
	defer client.Close()
	r.env.log.Info("dhcp: asking for a lease", "link", name)
	lease, err := client.Request(ctx,
		dhcpv4.WithOption(dhcpv4.OptClassIdentifier("PXE UROOT")),
		dhcpv4.WithRequestedOptions(dhcpv4.OptionSubnetMask),
		dhcpv4.WithNetboot)
	if err != nil {
		return "", fmt.Errorf("%s: dhcp: %w", name, err)
	}
	msg := lease.ACK
	if err := configureLease(l, msg); err != nil {
		return "", fmt.Errorf("%s: dhcp: configure lease: %w", name, err)
	}
	if err := holdLease(l, msg); err != nil {
		return "", fmt.Errorf("%s: dhcp: %w", name, err)
	}
	r.env.log.Info("dhcp: lease", "link", name, "address", msg.YourIPAddr.String(),
		"lease", msg.IPAddressLeaseTime(0).String(), "server", msg.ServerIdentifier().String())
	return msg.YourIPAddr.String(), nil
}

// waitLinkUp sets the link up until its operational state is up (or
// unknown, as for links without carrier detection), polling every 100 ms
// for at most limit: a NIC's carrier comes some time after it is set up.
func waitLinkUp(ctx context.Context, name string, limit time.Duration) error {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		l, err := netlink.LinkByName(name)
		if err != nil {
			return fmt.Errorf("link %s: %w", name, err)
		}
		if o := l.Attrs().OperState; o == netlink.OperUp || o == netlink.OperUnknown {
			return nil
		}
		if err := netlink.LinkSetUp(l); err != nil {
			return fmt.Errorf("set %s up: %w", name, err)
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return fmt.Errorf("link %s still down after %s", name, limit)
		case <-ctx.Done():
			return fmt.Errorf("link %s still down: %w", name, ctx.Err())
		}
	}
}

// configureLease gives l the leased address (a /32 without a subnet mask
// option), its routes and writes the DNS servers to /etc/resolv.conf.
func configureLease(l netlink.Link, msg *dhcpv4.DHCPv4) error {
	mask := msg.SubnetMask()
	if mask == nil {
		mask = net.CIDRMask(32, 32)
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: msg.YourIPAddr, Mask: mask}}
	if err := netlink.AddrReplace(l, addr); err != nil {
		return fmt.Errorf("add address %s: %w", addr.IPNet, err)
	}
	for _, rt := range leaseRoutes(l.Attrs().Index, msg) {
		if err := netlink.RouteReplace(rt); err != nil {
			return fmt.Errorf("add %s: %w", rt, err)
		}
	}
	if err := os.WriteFile(resolvConf, resolvConfOf(msg), 0o644); err != nil {
		return fmt.Errorf("write DNS servers: %w", err)
	}
	return nil
}

// leaseRoutes are the lease's routes on link index: its classless static
// routes (option 121) when it has them, which RFC 3442 says replace the
// Router option, else a default route via the first router.
func leaseRoutes(index int, msg *dhcpv4.DHCPv4) []*netlink.Route {
	var out []*netlink.Route
	if routes := msg.ClasslessStaticRoute(); routes != nil {
		for _, rt := range routes {
			nr := &netlink.Route{LinkIndex: index, Dst: rt.Dest, Gw: rt.Router}
			if nr.Gw == nil || nr.Gw.Equal(net.IPv4zero) {
				nr.Scope = netlink.SCOPE_LINK // no gateway: on the link
			}
			out = append(out, nr)
		}
		return out
	}
	if gw := msg.Router(); len(gw) > 0 {
		out = append(out, &netlink.Route{LinkIndex: index, Gw: gw[0]})
	}
	return out
}

// resolvConfOf is the resolv.conf of a lease: its domain, DNS servers and
// search list (empty when the lease has none of them).
func resolvConfOf(msg *dhcpv4.DHCPv4) []byte {
	var b bytes.Buffer
	if d := msg.DomainName(); d != "" {
		fmt.Fprintf(&b, "domain %s\n", d)
	}
	for _, ip := range msg.DNS() {
		fmt.Fprintf(&b, "nameserver %s\n", ip)
	}
	if sl := msg.DomainSearch(); sl != nil && len(sl.Labels) > 0 {
		b.WriteString("search")
		for _, s := range sl.Labels {
			b.WriteString(" " + s)
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

// holdLease gives the leased address the lease's lifetimes: preferred
// until the renewal time (T1), valid until the lease ends. The kernel
// keeps that clock: at T1 it marks the address deprecated and says so on
// rtnetlink, which makes the engine check this interface and renew
// (netwatch.go); a lease never renewed is removed at its end. No timer of
// ours. An infinite lease stays permanent.
func holdLease(l netlink.Link, msg *dhcpv4.DHCPv4) error {
	lease := msg.IPAddressLeaseTime(0)
	if lease <= 0 || lease >= math.MaxUint32*time.Second {
		return nil
	}
	t1 := msg.IPAddressRenewalTime(lease / 2)
	if t1 <= 0 || t1 > lease {
		t1 = lease / 2
	}
	mask := msg.SubnetMask()
	if mask == nil {
		mask = msg.YourIPAddr.DefaultMask()
	}
	a := &netlink.Addr{
		IPNet:       &net.IPNet{IP: msg.YourIPAddr, Mask: mask},
		ValidLft:    int(lease / time.Second),
		PreferedLft: max(int(t1/time.Second), 1),
	}
	if err := netlink.AddrReplace(l, a); err != nil {
		return fmt.Errorf("lease lifetimes on %s: %w", a.IPNet, err)
	}
	return nil
}

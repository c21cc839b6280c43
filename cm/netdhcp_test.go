package cm

import (
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/rfc1035label"
	"github.com/vishvananda/netlink"
)

// A lease configures the address, the default route from the Router
// option, and /etc/resolv.conf from the DNS, domain and search options.
func TestDHCPConfiguresRoutesAndDNS(t *testing.T) {
	if !inNamespace(t, syscall.CLONE_NEWNET|syscall.CLONE_NEWNS) {
		return
	}
	privateResolvConf(t)
	dhcpServer(t, 0,
		dhcpv4.WithOption(dhcpv4.OptRouter(net.IPv4(10, 77, 0, 1))),
		dhcpv4.WithOption(dhcpv4.OptDNS(net.IPv4(10, 77, 0, 53), net.IPv4(10, 77, 0, 54))),
		dhcpv4.WithOption(dhcpv4.OptDomainName("example.test")),
		dhcpv4.WithOption(dhcpv4.OptDomainSearch(&rfc1035label.Labels{Labels: []string{"a.test", "b.test"}})),
	)
	rep := applyOnce(t, loadCfg(t, "[net.c0]\ndhcp = true\n"))
	if rep.Failed != 0 {
		t.Fatalf("%s", rep)
	}
	if got := gateways(t, "c0"); !slices.Equal(got, []string{"default via 10.77.0.1"}) {
		t.Errorf("routes %q", got)
	}
	b, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		t.Fatal(err)
	}
	want := "domain example.test\nnameserver 10.77.0.53\nnameserver 10.77.0.54\nsearch a.test b.test\n"
	if string(b) != want {
		t.Errorf("resolv.conf:\n%s\nwant:\n%s", b, want)
	}
}

// Classless static routes (option 121) win over the Router option (RFC
// 3442): only they are installed.
func TestDHCPClasslessRoutes(t *testing.T) {
	if !inNamespace(t, syscall.CLONE_NEWNET|syscall.CLONE_NEWNS) {
		return
	}
	privateResolvConf(t)
	_, dst, _ := net.ParseCIDR("10.88.0.0/16")
	dhcpServer(t, 0,
		dhcpv4.WithOption(dhcpv4.OptRouter(net.IPv4(10, 77, 0, 1))),
		dhcpv4.WithOption(dhcpv4.OptClasslessStaticRoute(&dhcpv4.Route{Dest: dst, Router: net.IPv4(10, 77, 0, 254)})),
	)
	rep := applyOnce(t, loadCfg(t, "[net.c0]\ndhcp = true\n"))
	if rep.Failed != 0 {
		t.Fatalf("%s", rep)
	}
	if got := gateways(t, "c0"); !slices.Equal(got, []string{"10.88.0.0/16 via 10.77.0.254"}) {
		t.Errorf("routes %q", got)
	}
	// No DNS option: resolv.conf is written empty (as u-root's dhclient, used before, did).
	if b, err := os.ReadFile("/etc/resolv.conf"); err != nil || len(b) != 0 {
		t.Errorf("resolv.conf %q, %v", b, err)
	}
}

// gateways lists the IPv4 routes of link name that have a gateway.
func gateways(t *testing.T, name string) []string {
	t.Helper()
	l, err := netlink.LinkByName(name)
	if err != nil {
		t.Fatal(err)
	}
	routes, err := netlink.RouteList(l, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range routes {
		if r.Gw == nil {
			continue
		}
		dst := "default"
		if r.Dst != nil && r.Dst.String() != "0.0.0.0/0" {
			dst = r.Dst.String()
		}
		out = append(out, dst+" via "+r.Gw.String())
	}
	return out
}

// The net kind offers DHCPv4 only: cm (so PID 1) links no DHCPv6 client
// (u-root's dhclient linked one: about 150 KB of binary).
func TestNetLinksNoDHCPv6(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command(gobin, "list", "-deps", "github.com/unit-os/unit/cm").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.Contains(p, "dhcpv6") || strings.HasPrefix(p, "github.com/u-root/u-root/") {
			t.Errorf("cm imports %s", p)
		}
	}
}

package cm

import (
	"strings"
	"syscall"
	"testing"

	"github.com/vishvananda/netlink"
)

// TestNetStaticInNamespace brings up the loopback interface of a fresh
// network namespace (down there, like a new NIC; dummy and veth links need
// modules this machine may lack) with an address, an MTU and routes, then
// checks that a second pass changes nothing and that a removed address
// comes back.
func TestNetStaticInNamespace(t *testing.T) {
	if !inNamespace(t, syscall.CLONE_NEWNET) {
		return
	}
	src := `
[net.lo]
addresses = ["10.9.0.2/24", "fd00:9::2/64"]
mtu       = 1400
routes    = [{ to = "default", via = "10.9.0.1" }, { to = "10.10.0.0/16", via = "10.9.0.254" }]
`
	rep := applyOnce(t, loadCfg(t, src))
	out := rep.String()
	for _, want := range []string{"lo down -> up", "lo address (none) -> 10.9.0.2/24", "lo address (none) -> fd00:9::2/64", "lo mtu 65536 -> 1400", "route (none) -> default via 10.9.0.1", "route (none) -> 10.10.0.0/16 via 10.9.0.254"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if rep.Failed != 0 {
		t.Fatalf("failed:\n%s", out)
	}
	l, err := netlink.LinkByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	routes, _ := netlink.RouteList(l, netlink.FAMILY_V4)
	var gw []string
	for _, r := range routes {
		if r.Gw != nil {
			gw = append(gw, r.Gw.String())
		}
	}
	if strings.Join(gw, ",") != "10.9.0.1,10.9.0.254" && strings.Join(gw, ",") != "10.9.0.254,10.9.0.1" {
		t.Errorf("gateways %v", gw)
	}
	mustNoop(t, loadCfg(t, src))

	a, _ := netlink.ParseAddr("10.9.0.2/24")
	if err := netlink.AddrDel(l, a); err != nil {
		t.Fatal(err)
	}
	if rep := applyOnce(t, loadCfg(t, src)); !strings.Contains(rep.String(), "lo address (none) -> 10.9.0.2/24") {
		t.Errorf("address not restored:\n%s", rep)
	}
}

func TestNetMissingInterface(t *testing.T) {
	if !inNamespace(t, syscall.CLONE_NEWNET) {
		return
	}
	rep := applyOnce(t, loadCfg(t, "[net.nosuch0]\ndhcp = true\n"))
	if rep.Failed != 1 || !strings.Contains(rep.String(), `no interface "nosuch0"`) {
		t.Fatalf("%s", rep)
	}
}

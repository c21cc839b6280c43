package cm

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/server4"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// TestNetWatchRepairsAtOnce: under a running engine, an address removed
// or a link set down by someone else comes back from the rtnetlink event
// alone (nothing else happens to wake the engine).
func TestNetWatchRepairsAtOnce(t *testing.T) {
	if !inNamespace(t, syscall.CLONE_NEWNET) {
		return
	}
	e := start(t)
	e.SetConfig(loadCfg(t, "[net.lo]\naddresses = [\"10.9.0.2/24\"]\n"))
	l, err := netlink.LinkByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	hasAddr := func() bool {
		addrs, _ := netlink.AddrList(l, netlink.FAMILY_V4)
		for _, a := range addrs {
			if a.IPNet.String() == "10.9.0.2/24" {
				return true
			}
		}
		return false
	}
	waitFor(t, "address configured", hasAddr)
	a, _ := netlink.ParseAddr("10.9.0.2/24")
	if err := netlink.AddrDel(l, a); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "address restored", hasAddr)
	if err := netlink.LinkSetDown(l); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "link up again", func() bool {
		l, err := netlink.LinkByName("lo")
		return err == nil && l.Attrs().Flags&net.FlagUp != 0 && hasAddr()
	})
}

// TestDHCPRenewsAtT1 runs a DHCP server on one end of a veth pair with a
// 6 s lease (renew at 2 s) and lets the engine lease the other end. The
// address carries the lease's lifetimes; at T1 the kernel deprecates it,
// the engine hears that on rtnetlink and renews, so the address outlives
// the first lease with no timer in unit.
func TestDHCPRenewsAtT1(t *testing.T) {
	if !inNamespace(t, syscall.CLONE_NEWNET|syscall.CLONE_NEWNS) {
		return
	}
	privateResolvConf(t)
	acks := dhcpServer(t, 0)
	e := start(t)
	e.SetConfig(loadCfg(t, "[net.c0]\ndhcp = true\n"))
	lease := func() (netlink.Addr, bool) {
		l, err := netlink.LinkByName("c0")
		if err != nil {
			return netlink.Addr{}, false
		}
		addrs, _ := netlink.AddrList(l, netlink.FAMILY_V4)
		for _, a := range addrs {
			if a.IP.Equal(net.IPv4(10, 77, 0, 50)) {
				return a, true
			}
		}
		return netlink.Addr{}, false
	}
	// The lease adds the address (permanent), then the engine gives it the
	// lease's lifetimes: wait for the second step, not just the first
	// (the test raced it under load: "valid 4294967295").
	waitFor(t, "leased address with the lease's lifetimes", func() bool {
		a, ok := lease()
		return ok && a.ValidLft > 0 && a.ValidLft <= 6 && a.PreferedLft <= 2
	})
	first := acks.Load()
	// Past the first lease's end: renewed at least once, and still there.
	time.Sleep(8 * time.Second)
	a, ok := lease()
	if !ok {
		t.Fatalf("address gone after the lease ended (%d acks)", acks.Load())
	}
	if acks.Load() < first+2 {
		t.Errorf("renewals: %d acks after the first lease, want >= 2 in 8 s at T1 = 2 s", acks.Load()-first)
	}
	if a.Flags&unix.IFA_F_DEPRECATED != 0 && a.ValidLft <= 0 {
		t.Errorf("address left deprecated: %+v", a)
	}
}

// privateResolvConf bind-mounts an empty file over /etc/resolv.conf, which
// a lease writes (the test runs in its own mount namespace).
func privateResolvConf(t *testing.T) {
	t.Helper()
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		t.Fatal(err)
	}
	resolv := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(resolv, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(resolv, "/etc/resolv.conf", "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
}

// dhcpServer makes a veth pair c0 (the client's) and s0, and answers DHCP
// on s0 after delay with 10.77.0.50/24, a 6 s lease and T1 at 2 s, plus
// the options of extra. It returns the count of ACKs sent.
func dhcpServer(t *testing.T, delay time.Duration, extra ...dhcpv4.Modifier) *atomic.Int32 {
	t.Helper()
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "c0"}, PeerName: "s0"}
	if err := netlink.LinkAdd(veth); err != nil {
		t.Skipf("no veth here: %v", err)
	}
	srvLink, err := netlink.LinkByName("s0")
	if err != nil {
		t.Fatal(err)
	}
	srvIP := net.IPv4(10, 77, 0, 1).To4()
	if err := netlink.AddrAdd(srvLink, &netlink.Addr{IPNet: &net.IPNet{IP: srvIP, Mask: net.CIDRMask(24, 32)}}); err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetUp(srvLink); err != nil {
		t.Fatal(err)
	}
	var acks atomic.Int32
	handler := func(conn net.PacketConn, _ net.Addr, m *dhcpv4.DHCPv4) {
		typ := dhcpv4.MessageTypeOffer
		switch m.MessageType() {
		case dhcpv4.MessageTypeDiscover:
		case dhcpv4.MessageTypeRequest:
			typ = dhcpv4.MessageTypeAck
			acks.Add(1)
		default:
			return
		}
		reply, err := dhcpv4.NewReplyFromRequest(m, append([]dhcpv4.Modifier{
			dhcpv4.WithMessageType(typ),
			dhcpv4.WithYourIP(net.IPv4(10, 77, 0, 50)),
			dhcpv4.WithServerIP(srvIP),
			dhcpv4.WithOption(dhcpv4.OptServerIdentifier(srvIP)),
			dhcpv4.WithOption(dhcpv4.OptSubnetMask(net.CIDRMask(24, 32))),
			dhcpv4.WithOption(dhcpv4.OptIPAddressLeaseTime(6 * time.Second)),
			dhcpv4.WithOption(dhcpv4.OptGeneric(dhcpv4.OptionRenewTimeValue, []byte{0, 0, 0, 2})),
		}, extra...)...)
		if err != nil {
			return
		}
		conn.WriteTo(reply.ToBytes(), &net.UDPAddr{IP: net.IPv4bcast, Port: dhcpv4.ClientPort})
	}
	srv, err := server4.NewServer("s0", &net.UDPAddr{IP: net.IPv4zero, Port: dhcpv4.ServerPort}, handler)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(delay)
		srv.Serve()
	}()
	t.Cleanup(func() { srv.Close() })
	return &acks

}

// TestDHCPRetriesUntilAnswered: no DHCP server for the first 6 s, so the
// lease fails; after the link settles (its IPv6 link-local addresses come
// at about 2 s) nothing on the network changes, yet the engine tries again
// with a backoff and gets the lease once the server answers.
func TestDHCPRetriesUntilAnswered(t *testing.T) {
	if !inNamespace(t, syscall.CLONE_NEWNET|syscall.CLONE_NEWNS) {
		return
	}
	privateResolvConf(t)
	acks := dhcpServer(t, 6*time.Second)
	rec := &recorder{}
	e := start(t, WithEvents(rec.emit))
	e.SetConfig(loadCfg(t, "[net.c0]\ndhcp = true\ndhcp_timeout = \"1s\"\n"))
	deadline := time.Now().Add(20 * time.Second)
	for {
		l, err := netlink.LinkByName("c0")
		if err == nil {
			addrs, _ := netlink.AddrList(l, netlink.FAMILY_V4)
			if len(addrs) > 0 && addrs[0].IP.Equal(net.IPv4(10, 77, 0, 50)) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no lease 20 s after start, server up after 6 s (%d acks)", acks.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !rec.hasEvent("net:c0", "failed") {
		t.Error("the first attempt, before the server, did not fail (the test proves nothing)")
	}
}

func TestQuietAddrUpdate(t *testing.T) {
	v6 := net.IPNet{IP: net.ParseIP("fe80::1"), Mask: net.CIDRMask(64, 128)}
	v4 := net.IPNet{IP: net.IPv4(10, 0, 2, 15).To4(), Mask: net.CIDRMask(24, 32)}
	for _, c := range []struct {
		u    netlink.AddrUpdate
		want bool
	}{
		{netlink.AddrUpdate{LinkAddress: v6, NewAddr: true}, true},                                // SLAAC / link-local, refreshed by RAs
		{netlink.AddrUpdate{LinkAddress: v6, NewAddr: true, Flags: unix.IFA_F_PERMANENT}, false},  // a static IPv6 address
		{netlink.AddrUpdate{LinkAddress: v6, NewAddr: false}, false},                              // removed
		{netlink.AddrUpdate{LinkAddress: v4, NewAddr: true}, false},                               // IPv4 (a lease reaching T1)
		{netlink.AddrUpdate{LinkAddress: v4, NewAddr: false, Flags: unix.IFA_F_PERMANENT}, false}, // removed
	} {
		if got := quietAddrUpdate(c.u); got != c.want {
			t.Errorf("quietAddrUpdate(%v new=%v flags=%#x) = %v", c.u.LinkAddress.IP, c.u.NewAddr, c.u.Flags, got)
		}
	}
}

// A subscription error is logged while the engine runs, not once it stops.
func TestSubscriptionErrorsQuietAtShutdown(t *testing.T) {
	var buf strings.Builder
	log := slog.New(slog.NewTextHandler(&buf, nil))
	ctx, cancel := context.WithCancel(context.Background())
	onErr := subscriptionErrors(ctx, log)
	onErr(errors.New("while running"))
	cancel()
	onErr(errors.New("at shutdown"))
	if !strings.Contains(buf.String(), "while running") || strings.Contains(buf.String(), "at shutdown") {
		t.Errorf("log:\n%s", buf.String())
	}
}

package cm

import (
	"context"
	"log/slog"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// watchNet subscribes to the kernel's link and address notifications
// (rtnetlink) and pokes netC on each, so that the net resources are checked
// when an interface goes down, loses an address, appears (hot-plug), or a
// DHCP address the kernel holds with lifetimes becomes deprecated (time to
// renew) or expires. Like inotify for files: no polling, and nothing
// happens while the network does not change. It runs until ctx ends; if
// the kernel refuses the subscription, net resources are only checked on
// other passes, and that is logged.
func watchNet(ctx context.Context, log *slog.Logger, netC chan<- struct{}) {
	links := make(chan netlink.LinkUpdate, 16)
	addrs := make(chan netlink.AddrUpdate, 16)
	onErr := subscriptionErrors(ctx, log)
	if err := netlink.LinkSubscribeWithOptions(links, ctx.Done(), netlink.LinkSubscribeOptions{ErrorCallback: onErr}); err != nil {
		log.Warn("cm: cannot watch links; net resources converge only on other passes", "err", err)
		links = nil
	}
	if err := netlink.AddrSubscribeWithOptions(addrs, ctx.Done(), netlink.AddrSubscribeOptions{ErrorCallback: onErr}); err != nil {
		log.Warn("cm: cannot watch addresses; net resources converge only on other passes", "err", err)
		addrs = nil
	}
	poke := func() {
		select {
		case netC <- struct{}{}:
		default:
		}
	}
	for links != nil || addrs != nil {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-links:
			if !ok {
				links = nil
				continue
			}
			poke()
		case u, ok := <-addrs:
			if !ok {
				addrs = nil
				continue
			}
			if quietAddrUpdate(u) {
				continue
			}
			poke()
		}
	}
}

// takeNetEvents marks every net resource: there are few, and a check is
// a handful of netlink requests. Our own changes come back as events too;
// the pass they cause finds nothing to do.
func (e *Engine) takeNetEvents() {
	for id := range e.plan.res {
		if strings.HasPrefix(id, "net:") {
			e.mark(id, causeDrift)
		}
	}
}

// quietAddrUpdate is an update no net resource acts on: an IPv6 address
// the kernel manages itself (SLAAC, link-local, refreshed by every router
// advertisement) appearing or being refreshed. Static addresses are
// permanent; removals always count.
func quietAddrUpdate(u netlink.AddrUpdate) bool {
	return u.NewAddr && u.LinkAddress.IP.To4() == nil && u.Flags&unix.IFA_F_PERMANENT == 0
}

// subscriptionErrors logs a netlink subscription's errors while ctx runs;
// closing the subscription at shutdown makes its read fail: not news.
func subscriptionErrors(ctx context.Context, log *slog.Logger) func(error) {
	return func(err error) {
		if ctx.Err() == nil {
			log.Warn("cm: netlink subscription", "err", err)
		}
	}
}

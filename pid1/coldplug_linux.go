package pid1

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/disk"
	"github.com/unit-os/unit/kmod"
)

// plugger loads the module a device needs, by its modalias, as udev does
// with modprobe: at boot for the devices the kernel already found
// (cold-plug, from /sys) and later for the devices it reports (hotplug,
// from the kernel's uevent netlink socket).
type plugger struct {
	log     *slog.Logger
	console io.Writer // one line per module loaded
	loader  *kmod.Loader
	aliases *kmod.Aliases
	sys     string                                // /sys
	insert  func(module string) ([]string, error) // loader.Load (tests replace it)

	mu       sync.Mutex
	idle     *sync.Cond      // on mu: signalled as loads end
	tried    map[string]bool // module → already attempted
	loading  map[string]bool // claimed modules still loading
	ended    int             // loads ended so far, by anyone
	inserted int             // modules inserted so far, by anyone
	waiting  func()          // called when settle waits (tests)
}

func newPluggerWith(log *slog.Logger, console io.Writer, a *kmod.Aliases, sys string, insert func(string) ([]string, error)) *plugger {
	if console == nil {
		console = io.Discard
	}
	p := &plugger{log: log, console: console, aliases: a, sys: sys, insert: insert, tried: map[string]bool{}, loading: map[string]bool{}}
	p.idle = sync.NewCond(&p.mu)
	return p
}

// newPlugger reads the running kernel's modules.dep and modules.alias
// (the image carries only the aliases of the modules it has).
func newPlugger(log *slog.Logger, console io.Writer) (*plugger, error) {
	l, err := kmod.NewLoader("")
	if err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(l.Dir, "modules.alias"))
	if err != nil {
		return nil, fmt.Errorf("cold-plug: %w", err)
	}
	defer f.Close()
	a, err := kmod.ParseAlias(f)
	if err != nil {
		return nil, fmt.Errorf("cold-plug: %s: %w", l.Dir, err)
	}
	p := newPluggerWith(log, console, a, "/sys", func(m string) ([]string, error) { return l.Load(m) })
	p.loader = l
	return p, nil
}

// claim returns the modules matching modalias that nobody tried yet, and
// marks them tried: each module is loaded once, by whoever claims it
// (cold-plug or hotplug), and must then be loaded with loadOne.
func (p *plugger) claim(modalias string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var mods []string
	for _, m := range p.aliases.Match(modalias) {
		if !p.tried[m] {
			p.tried[m] = true
			p.loading[m] = true
			mods = append(mods, m)
		}
	}
	return mods
}

// claimModule claims module m by name, as claim does by modalias: false
// when someone tried it already.
func (p *plugger) claimModule(m string) bool {
	m = strings.ReplaceAll(m, "-", "_")
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tried[m] {
		return false
	}
	p.tried[m] = true
	p.loading[m] = true
	return true
}

// loadEnded marks a claimed module's load over, n modules inserted.
func (p *plugger) loadEnded(m string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.loading, m)
	p.ended++
	p.inserted += n
	p.idle.Broadcast()
}

// loadOne loads a claimed module and returns how many modules it inserted.
func (p *plugger) loadOne(m, device string) (n int) {
	defer func() {
		if r := recover(); r != nil {
			p.log.Error("module load panic", "module", m, "panic", r)
		}
		p.loadEnded(m, n)
	}()
	loaded, err := p.insert(m)
	if err != nil {
		p.log.Warn("module for device", "module", m, "device", device, "err", err)
		return 0
	}
	if len(loaded) > 0 {
		p.log.Info("module loaded for device", "module", m, "device", device)
		fmt.Fprintf(p.console, "unit: module %s loaded for device %s\n", m, device)
	}
	return len(loaded)
}

// insertClaimed loads module m, claimed with claimModule, and returns
// what it inserted.
func (p *plugger) insertClaimed(m string) (loaded []string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("module %s: panic: %v", m, r)
		}
		p.loadEnded(strings.ReplaceAll(m, "-", "_"), len(loaded))
	}()
	return p.insert(m)
}

// load loads every not yet tried module matching modalias and returns
// how many it inserted.
func (p *plugger) load(modalias, device string) int {
	n := 0
	for _, m := range p.claim(modalias) {
		n += p.loadOne(m, device)
	}
	return n
}

// settle waits until no claimed module is loading and returns how many
// modules were inserted so far.
func (p *plugger) settle() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.loading) > 0 {
		if p.waiting != nil {
			p.waiting()
		}
		p.idle.Wait()
	}
	return p.inserted
}

// coldplug walks /sys/bus/*/devices/*/modalias until a pass loads
// nothing: a bus driver (virtio_pci) makes new devices (virtio disks and
// NICs) whose drivers the next pass loads. The modules of one pass load
// side by side: finit_module returns once the driver has probed its
// devices, and one slow probe (a NIC's) need not hold up the others (a
// disk's); the kernel orders two loads of a shared dependency. A pass
// ends when hotplug's loads have ended too: a disk's driver that hotplug
// claimed first is still one cold-plug waits for.
func (p *plugger) coldplug() {
	for pass := 0; pass < 8; pass++ {
		before := p.settle()
		var wg sync.WaitGroup
		for _, d := range p.scan("*") {
			for _, m := range p.claim(d.modalias) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					p.loadOne(m, d.name)
				}()
			}
		}
		wg.Wait()
		if p.settle() == before {
			return
		}
	}
}

// sysDevice is a device in /sys/bus that names a driver.
type sysDevice struct{ name, modalias string }

// scan lists the devices with a modalias on the named buses ("*": all).
func (p *plugger) scan(buses ...string) []sysDevice {
	var out []sysDevice
	for _, bus := range buses {
		paths, _ := filepath.Glob(filepath.Join(p.sys, "bus", bus, "devices/*/modalias"))
		for _, path := range paths {
			b, err := os.ReadFile(path)
			if err != nil {
				continue
			}
			if a := strings.TrimSpace(string(b)); a != "" {
				out = append(out, sysDevice{name: filepath.Base(filepath.Dir(path)), modalias: a})
			}
		}
	}
	return out
}

// settleFor returns once the devices of set have their drivers loaded
// and probed, whoever loads them (cold-plug, hotplug or this): it loads
// the ones nobody claimed yet, side by side, waits for the ones still
// loading, and looks again after each, since a driver that ends may have
// made new devices (virtio_pci makes the virtio disks). The other
// devices' drivers may still be loading when it returns.
func (p *plugger) settleFor(set deviceSet) {
	for {
		p.mu.Lock()
		ended := p.ended
		p.mu.Unlock()
		var wg sync.WaitGroup
		claimed, pending := false, false
		for _, d := range p.scan(set.buses...) {
			if !set.has(d.modalias) {
				continue
			}
			for _, m := range p.claim(d.modalias) {
				claimed = true
				wg.Add(1)
				go func() {
					defer wg.Done()
					p.loadOne(m, d.name)
				}()
			}
			pending = pending || p.loadingFor(d.modalias)
		}
		wg.Wait()
		switch {
		case claimed:
			// Look again: the loads may have made new devices.
		case !pending:
			return
		default:
			p.waitEnd(ended)
		}
	}
}

// loadingFor says whether a module matching modalias is still loading.
func (p *plugger) loadingFor(modalias string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.aliases.Match(modalias) {
		if p.loading[m] {
			return true
		}
	}
	return false
}

// waitEnd waits until more than ended loads have ended.
func (p *plugger) waitEnd(ended int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.ended == ended {
		if p.waiting != nil {
			p.waiting()
		}
		p.idle.Wait()
	}
}

// hotplug loads modules for devices added after boot until ctx ends.
// It recovers from panics: PID 1 must not die of a strange uevent.
func (p *plugger) hotplug(ctx context.Context) {
	defer func() {
		if r := recover(); r != nil {
			p.log.Error("hotplug panic", "panic", r)
		}
	}()
	fd, err := disk.UeventSocket()
	if err != nil {
		p.log.Warn("hotplug unavailable", "err", err)
		return
	}
	go func() {
		<-ctx.Done()
		unix.Close(fd)
	}()
	buf := make([]byte, 16<<10)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if err == unix.EINTR || err == unix.ENOBUFS {
				continue
			}
			p.log.Warn("hotplug", "err", err)
			return
		}
		if ev := parseUevent(buf[:n]); ev["ACTION"] == "add" && ev["MODALIAS"] != "" {
			p.load(ev["MODALIAS"], ev["DEVPATH"])
		}
	}
}

// parseUevent splits a kernel uevent ("add@/devices/...\0KEY=VALUE\0...").
func parseUevent(b []byte) map[string]string {
	ev := map[string]string{}
	for _, f := range bytes.Split(b, []byte{0}) {
		if k, v, ok := strings.Cut(string(f), "="); ok {
			ev[k] = v
		}
	}
	return ev
}

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
	mu      sync.Mutex
	tried   map[string]bool // module → already attempted
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
	if console == nil {
		console = io.Discard
	}
	return &plugger{log: log, console: console, loader: l, aliases: a, tried: map[string]bool{}}, nil
}

// load loads every not yet tried module matching modalias and returns
// how many it inserted.
func (p *plugger) load(modalias, device string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, m := range p.aliases.Match(modalias) {
		if p.tried[m] {
			continue
		}
		p.tried[m] = true
		loaded, err := p.loader.Load(m)
		if err != nil {
			p.log.Warn("module for device", "module", m, "device", device, "err", err)
			continue
		}
		if len(loaded) > 0 {
			p.log.Info("module loaded for device", "module", m, "device", device)
			fmt.Fprintf(p.console, "unit: module %s loaded for device %s\n", m, device)
			n += len(loaded)
		}
	}
	return n
}

// coldplug walks /sys/bus/*/devices/*/modalias until a pass loads
// nothing: a bus driver (virtio_pci) makes new devices (virtio disks and
// NICs) whose drivers the next pass loads.
func (p *plugger) coldplug() {
	for pass := 0; pass < 8; pass++ {
		paths, _ := filepath.Glob("/sys/bus/*/devices/*/modalias")
		n := 0
		for _, path := range paths {
			b, err := os.ReadFile(path)
			if err != nil {
				continue
			}
			if a := strings.TrimSpace(string(b)); a != "" {
				n += p.load(a, filepath.Base(filepath.Dir(path)))
			}
		}
		if n == 0 {
			return
		}
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

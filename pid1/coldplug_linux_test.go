package pid1

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unit-os/unit/kmod"
)

func TestParseUevent(t *testing.T) {
	msg := "add@/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0\x00ACTION=add\x00" +
		"DEVPATH=/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0\x00SUBSYSTEM=scsi\x00" +
		"MODALIAS=scsi:t-0x00\x00SEQNUM=1234\x00"
	ev := parseUevent([]byte(msg))
	if ev["ACTION"] != "add" || ev["MODALIAS"] != "scsi:t-0x00" || ev["SUBSYSTEM"] != "scsi" || ev["SEQNUM"] != "1234" {
		t.Fatalf("parsed %v", ev)
	}
	if ev := parseUevent([]byte("libudev\x00\xfe\xed")); ev["ACTION"] != "" {
		t.Fatalf("udev's own messages must not parse as kernel events: %v", ev)
	}
}

// fakeSys is a /sys with one device per modalias, and a plugger over it
// whose modules.alias maps "alias-X" to module X.
func fakePlugger(t *testing.T, insert func(string) ([]string, error), modules ...string) *plugger {
	t.Helper()
	sys := t.TempDir()
	var aliases strings.Builder
	for i, m := range modules {
		dev := filepath.Join(sys, "bus", "virtio", "devices", fmt.Sprintf("virtio%d", i))
		if err := os.MkdirAll(dev, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dev, "modalias"), []byte("alias-"+m+"\n"), 0o444); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&aliases, "alias alias-%s %s\n", m, m)
	}
	a, err := kmod.ParseAlias(strings.NewReader(aliases.String()))
	if err != nil {
		t.Fatal(err)
	}
	return newPluggerWith(slog.New(slog.NewTextHandler(io.Discard, nil)), nil, a, sys, insert)
}

// The drivers of one pass load side by side: a disk's driver does not
// wait for a NIC's probe. Each fake load here returns only once the other
// has begun, which a pass that loads one module after another never sees.
func TestColdplugLoadsAPassSideBySide(t *testing.T) {
	began := map[string]chan struct{}{"virtio_blk": make(chan struct{}), "virtio_net": make(chan struct{})}
	other := map[string]string{"virtio_blk": "virtio_net", "virtio_net": "virtio_blk"}
	giveUp := make(chan struct{})
	var mu sync.Mutex
	var stuck []string
	p := fakePlugger(t, func(m string) ([]string, error) {
		close(began[m])
		select {
		case <-began[other[m]]:
		case <-giveUp:
			mu.Lock()
			stuck = append(stuck, m)
			mu.Unlock()
		}
		return []string{m}, nil
	}, "virtio_blk", "virtio_net")
	done := p.start()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // only a deadlock gets here
		close(giveUp)
		<-done
	}
	if len(stuck) > 0 {
		t.Fatalf("%v waited for another module's load to end before its own began", stuck)
	}
}

// Cold-plug runs in the background: start returns while a driver still
// loads, and its channel closes once every pass is over.
func TestColdplugStartReturnsAtOnce(t *testing.T) {
	release, loading := make(chan struct{}), make(chan struct{})
	p := fakePlugger(t, func(m string) ([]string, error) {
		close(loading)
		<-release
		return nil, nil
	}, "virtio_net")
	done := p.start()
	<-loading
	select {
	case <-done:
		t.Fatal("cold-plug over while a module was still loading")
	default:
	}
	close(release)
	<-done
	if !p.tried["virtio_net"] {
		t.Error("virtio_net not tried")
	}
}

// A driver hotplug claimed (its device's uevent came first) is one
// cold-plug still waits for: what reads disks after cold-plug must find
// them.
func TestColdplugWaitsForHotplugLoads(t *testing.T) {
	release, loading := make(chan struct{}), make(chan struct{})
	var ended atomic.Bool
	p := fakePlugger(t, func(m string) ([]string, error) {
		close(loading)
		<-release
		ended.Store(true)
		return []string{m}, nil
	}, "virtio_blk")
	var once sync.Once
	p.waiting = func() { once.Do(func() { close(release) }) }
	go p.load("alias-virtio_blk", "/devices/virtio0") // as hotplug does
	<-loading
	<-p.start() // finds the only driver claimed: it must wait for it
	if !ended.Load() {
		t.Fatal("cold-plug over while hotplug still loaded the disk's driver")
	}
}

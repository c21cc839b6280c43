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

// fakeSys is a /sys/bus tree and a plugger over it, whose modules.alias
// is aliases ("alias PATTERN MODULE" lines) and whose loads run insert.
type fakeSys struct {
	t   *testing.T
	dir string
}

// add puts a device on bus: as the kernel does when a driver's probe
// makes one (virtio_pci makes the virtio devices).
func (s fakeSys) add(bus, name, modalias string) {
	s.t.Helper()
	dev := filepath.Join(s.dir, "bus", bus, "devices", name)
	if err := os.MkdirAll(dev, 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dev, "modalias"), []byte(modalias+"\n"), 0o444); err != nil {
		s.t.Fatal(err)
	}
}

func newFakeSys(t *testing.T, aliases string, insert func(string) ([]string, error)) (fakeSys, *plugger) {
	t.Helper()
	s := fakeSys{t: t, dir: t.TempDir()}
	a, err := kmod.ParseAlias(strings.NewReader(aliases))
	if err != nil {
		t.Fatal(err)
	}
	return s, newPluggerWith(slog.New(slog.NewTextHandler(io.Discard, nil)), nil, a, s.dir, insert)
}

const qemuAliases = `alias pci:v00008086d00007010sv*sd*bc*sc*i* ata_piix
alias pci:v00008086d0000100Esv*sd*bc*sc*i* e1000
alias pci:v00001AF4d*sv*sd*bc*sc*i* virtio_pci
alias virtio:d00000001v* virtio_net
alias virtio:d00000002v* virtio_blk
alias virtio:d00000004v* virtio_rng
alias scsi:t-0x00* sd_mod
`

// The boot waits for the disks' drivers, not the NIC's: settleFor
// returns with the IDE controller's driver loaded while e1000 still
// probes, and without loading it.
func TestSettleForSkipsTheNIC(t *testing.T) {
	var mu sync.Mutex
	var inserted []string
	s, p := newFakeSys(t, qemuAliases, func(m string) ([]string, error) {
		mu.Lock()
		defer mu.Unlock()
		inserted = append(inserted, m)
		return []string{m}, nil
	})
	s.add("pci", "0000:00:01.1", aliasIDE)
	s.add("pci", "0000:00:03.0", "pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00")
	// Cold-plug claimed e1000 and it is still probing.
	if got := p.claim("pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00"); len(got) != 1 {
		t.Fatalf("claimed %v", got)
	}
	// Waiting for it is the failure; the hook ends its load so that the
	// failure is reported rather than a deadlock.
	var waited atomic.Bool
	var once sync.Once
	p.waiting = func() {
		waited.Store(true)
		once.Do(func() { go p.loadOne("e1000", "0000:00:03.0") })
	}
	p.settleFor(bootDevices(nil))
	if waited.Load() {
		t.Error("waited for e1000's probe")
	}
	if len(inserted) != 1 || inserted[0] != "ata_piix" {
		t.Errorf("inserted %v, want [ata_piix]", inserted)
	}
}

// A disk behind a bus driver: virtio_pci's probe makes the virtio
// devices, and the disk's driver is loaded then; the NIC's is not.
func TestSettleForFindsTheDisksABusDriverMakes(t *testing.T) {
	var s fakeSys
	var mu sync.Mutex
	var inserted []string
	s, p := newFakeSys(t, qemuAliases, func(m string) ([]string, error) {
		mu.Lock()
		inserted = append(inserted, m)
		mu.Unlock()
		if m == "virtio_pci" {
			s.add("virtio", "virtio0", aliasVirtioNet)
			s.add("virtio", "virtio1", aliasVirtioBlk)
			s.add("virtio", "virtio2", aliasVirtioRng)
		}
		return []string{m}, nil
	})
	s.add("pci", "0000:00:03.0", aliasVirtioNetP)
	s.add("pci", "0000:00:04.0", aliasVirtioBlkP)
	s.add("pci", "0000:00:05.0", aliasVirtioRngP)
	p.settleFor(bootDevices(nil))
	if strings.Join(inserted, " ") != "virtio_pci virtio_blk" {
		t.Errorf("inserted %v, want [virtio_pci virtio_blk]", inserted)
	}
}

// A machine without disks (examples/hello booted from its initramfs)
// waits for nothing: its virtio NIC and entropy source have drivers,
// its IDE controller has none in the image.
func TestSettleForWithoutDisks(t *testing.T) {
	s, p := newFakeSys(t, `alias pci:v00001AF4d*sv*sd*bc*sc*i* virtio_pci
alias virtio:d00000001v* virtio_net
`, func(m string) ([]string, error) {
		t.Errorf("loaded %s", m)
		return nil, nil
	})
	s.add("pci", "0000:00:01.1", aliasIDE)
	s.add("pci", "0000:00:03.0", aliasVirtioNetP)
	s.add("pci", "0000:00:04.0", aliasVirtioRngP)
	s.add("acpi", "LNXSYSTM:00", aliasACPI)
	p.settleFor(bootDevices(nil))
}

// A disk's driver someone else claimed first (hotplug, or cold-plug's
// pass) is still one the boot waits for, until its load ends.
func TestSettleForWaitsForALoadUnderWay(t *testing.T) {
	release, loading := make(chan struct{}), make(chan struct{})
	var ended atomic.Bool
	s, p := newFakeSys(t, qemuAliases, func(m string) ([]string, error) {
		close(loading)
		<-release
		ended.Store(true)
		return []string{m}, nil
	})
	s.add("virtio", "virtio1", aliasVirtioBlk)
	var once sync.Once
	p.waiting = func() { once.Do(func() { close(release) }) }
	go p.load(aliasVirtioBlk, "/devices/virtio1") // as hotplug does
	<-loading
	p.settleFor(bootDevices(nil))
	if !ended.Load() {
		t.Fatal("settleFor returned while the disk's driver was still loading")
	}
}

// The [system] modules are loaded before the services, except those a
// device present has cold-plug loading already: virtio_pci, probing
// here until the test ends, is not waited for; virtio_net is loaded.
func TestLoadModulesLeavesDeviceDriversToColdplug(t *testing.T) {
	release, probing := make(chan struct{}), make(chan struct{})
	defer close(release)
	var mu sync.Mutex
	var inserted []string
	first := true // the first virtio_pci load is cold-plug's: it probes on
	s, p := newFakeSys(t, qemuAliases, func(m string) ([]string, error) {
		mu.Lock()
		if m == "virtio_pci" && first {
			first = false
			mu.Unlock()
			close(probing)
			<-release
			return []string{m}, nil
		}
		defer mu.Unlock()
		inserted = append(inserted, m)
		return []string{m}, nil
	})
	s.add("pci", "0000:00:03.0", aliasVirtioNetP)
	for _, m := range p.claim(aliasVirtioNetP) { // as cold-plug's first pass
		go p.loadOne(m, "0000:00:03.0")
	}
	<-probing
	loaded, withDevices, err := (&devices{p: p}).loadModules([]string{"virtio_pci", "virtio-net"})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(loaded, " ") != "virtio-net" || strings.Join(inserted, " ") != "virtio-net" {
		t.Errorf("loaded %v, inserted %v: want virtio-net alone", loaded, inserted)
	}
	if strings.Join(withDevices, " ") != "virtio_pci" {
		t.Errorf("left to their devices: %v, want [virtio_pci]", withDevices)
	}
	if p.claim(aliasVirtioNet) != nil {
		t.Error("cold-plug would load virtio_net again")
	}
}

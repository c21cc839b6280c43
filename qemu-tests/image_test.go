package qemutests

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unit-os/unit/pkgbuild/pkgtest"

	"github.com/unit-os/unit/image"
	"github.com/unit-os/unit/uki"
)

// diskProbe runs in the disk image. First boot: check that / is the
// overlay over the squashfs root partition, write to /etc (a tmpfs layer:
// gone at the next boot) and a marker on the data partition (/var), check
// the DHCP lease, wait until the host has fetched the page through the
// forwarded port, check drift repair, power off. Second boot of the same
// disk: print the marker, check /etc forgot, and power off.
const diskProbe = `
[net.eth0]
dhcp = true

[service.probe]
requires = ["service:web"]
restart  = "never"
exec = ["/bin/sh", "-c", """
if [ -f /var/unit-test/marker ]; then
  [ -e /etc/unit-test-scratch ] || echo ETC-FORGOTTEN
  echo "MARKER $(cat /var/unit-test/marker)"; unit poweroff; exit 0
fi
grep -q '^overlay / overlay .*lowerdir=/run/unit/root/image' /proc/mounts && grep -q '^/dev/vda3 /run/unit/root/image squashfs ro' /proc/mounts && echo ROOT-OVERLAY-ON-SQUASHFS
echo scratch > /etc/unit-test-scratch && echo ETC-WRITABLE
mkdir -p /var/unit-test && echo first-boot > /var/unit-test/marker && sync && echo MARKER-WRITTEN
grep -q ' /var ext4 ' /proc/mounts && echo VAR-IS-EXT4
i=0; until ip -4 addr show eth0 | grep -q 'inet 10.0.2.15' || [ $i -ge 300 ]; do usleep 100000; i=$((i+1)); done
ip -4 addr show eth0 | grep -q 'inet 10.0.2.15' && echo DHCP-OK
i=0; until unit logs web | grep -q '10.0.2.2.*response:200' || [ $i -ge 600 ]; do usleep 100000; i=$((i+1)); done
echo HOST-FETCHED
rm /srv/www/index.html && echo PROBE-DELETED
i=0; while [ ! -f /srv/www/index.html ] && [ $i -lt 200 ]; do usleep 25000; i=$((i+1)); done
grep -q 'hello from unit' /srv/www/index.html && echo PROBE-RESTORED
unit poweroff
"""]
`

// TestImageDiskThroughOVMF boots the example as a UEFI disk twice: the
// first boot serves a page to the host through a forwarded port and
// writes to the data partition, the second finds what the first wrote.
func TestImageDiskThroughOVMF(t *testing.T) {
	sys := strings.Replace(exampleWith(t, diskProbe), "[system]\n", "[system]\ndata = { size = \"64M\" }\n", 1)
	dir := buildFormat(t, sys, image.FormatDisk)
	port := freePort(t)

	vm := bootWith(t, dir, image.RunOptions{Forward: []string{strconv.Itoa(port) + ":80"}})
	vm.Expect(`BdsDxe: starting Boot\d+ "UEFI Misc Device"`, 0, 60*time.Second)
	vm.Expect(`EFI stub: Loaded initrd`, 0, 60*time.Second)
	// The initramfs finds the root (partition 3, after the data) by the
	// PARTUUID on the UKI's command line, and the root's unit boots.
	sw := vm.Expect(`^unit: root PARTUUID=[0-9a-f-]{36} is /dev/vda3: squashfs read-only under a tmpfs overlay; switching to it`, 0, 60*time.Second)
	vm.Expect(`^unit: PID 1, started`, sw, 30*time.Second)
	vm.Expect(`^unit: data partition /dev/vda2 \(label unit-data\) mounted on /var`, sw, 60*time.Second)
	all := vm.Expect(`unit: all \d+ services running`, 0, 60*time.Second)
	vm.Expect(`\[probe\] ROOT-OVERLAY-ON-SQUASHFS`, 0, 30*time.Second)
	vm.Expect(`\[probe\] ETC-WRITABLE`, 0, 30*time.Second)
	vm.Expect(`\[probe\] MARKER-WRITTEN`, 0, 30*time.Second)
	vm.Expect(`\[probe\] VAR-IS-EXT4`, 0, 30*time.Second)
	vm.Expect(`unit: net:eth0 changed \(.*eth0 dhcp \(none\) -> 10\.0\.2\.15`, 0, 30*time.Second)
	vm.Expect(`\[probe\] DHCP-OK`, 0, 30*time.Second)
	t.Logf("boot 1: %s", vm.lines[all])

	body := fetch(t, "http://127.0.0.1:"+strconv.Itoa(port)+"/", 30*time.Second)
	if !strings.Contains(body, "hello from unit") {
		t.Fatalf("page through the forwarded port: %q", body)
	}
	vm.Expect(`\[probe\] HOST-FETCHED`, 0, 30*time.Second)
	vm.Expect(`\[probe\] PROBE-RESTORED`, 0, 30*time.Second)
	vm.Expect(`^unit: power off`, 0, 60*time.Second)
	if err := vm.Wait(60 * time.Second); err != nil {
		t.Fatalf("boot 1 did not power off cleanly: %v", err)
	}
	t.Logf("boot 1 to power off: %s wall", time.Since(vm.started).Round(time.Millisecond))

	vm2 := bootWith(t, dir, image.RunOptions{})
	vm2.Expect(`\[probe\] ETC-FORGOTTEN`, 0, 90*time.Second)
	vm2.Expect(`\[probe\] MARKER first-boot`, 0, 30*time.Second)
	vm2.Expect(`^unit: power off`, 0, 60*time.Second)
	if err := vm2.Wait(60 * time.Second); err != nil {
		t.Fatalf("boot 2 did not power off cleanly: %v", err)
	}
	t.Logf("boot 2 to power off: %s wall", time.Since(vm2.started).Round(time.Millisecond))
}

// metalProbe checks that cold-plug bound the SATA and NIC drivers and
// that the NIC got its address, then waits for the host to hot-plug an
// e1000 NIC (whose module nothing has loaded yet) and checks that it is
// bound too. The watchdog is armed by then and has been petted through
// more than two of its timeouts.
const metalProbe = `
[system]
hostname = "metal"
hardware = "metal"

[net.eth0]
dhcp = true

# Not there at boot: hot-plugged later, configured from the rtnetlink event.
[net.eth1]
addresses = ["10.0.3.9/24"]

[service.probe]
restart = "never"
exec = ["/bin/sh", "-c", """
ls /sys/bus/pci/drivers/ahci | grep -q '^0000:' && echo AHCI-BOUND
ls /sys/bus/pci/drivers/e1000e | grep -q '^0000:' && echo E1000E-BOUND
i=0; until [ -e /sys/block/sda ] || [ $i -ge 100 ]; do usleep 100000; i=$((i+1)); done
[ -e /sys/block/sda ] && echo SATA-DISK-sda
i=0; until ip -4 addr show eth0 | grep -q 'inet 10.0.2.15' || [ $i -ge 300 ]; do usleep 100000; i=$((i+1)); done
ip link show eth0 | grep -q ',UP,LOWER_UP>' && ip -4 addr show eth0 | grep -q 'inet 10.0.2.15' && echo NIC-UP
w=/sys/class/watchdog/watchdog0
echo "WATCHDOG $(cat $w/identity) state=$(cat $w/state) timeout=$(cat $w/timeout)"
[ -d /sys/bus/pci/drivers/e1000 ] || echo E1000-NOT-LOADED
echo HOTPLUG-READY
i=0; until ls /sys/bus/pci/drivers/e1000 2>/dev/null | grep -q '^0000:' || [ $i -ge 600 ]; do usleep 100000; i=$((i+1)); done
ls /sys/bus/pci/drivers/e1000 | grep -q '^0000:' && echo E1000-HOTPLUG-BOUND
i=0; until ip -o link | grep -qv ' lo:\\| eth0:' || [ $i -ge 100 ]; do usleep 100000; i=$((i+1)); done
echo "LINKS $(ip -o link | cut -d: -f2 | tr -d ' \n')"
i=0; until ip -4 addr show eth1 2>/dev/null | grep -q 'inet 10.0.3.9/24' || [ $i -ge 100 ]; do usleep 100000; i=$((i+1)); done
ip link show eth1 | grep -q '[<,]UP[,>]' && ip -4 addr show eth1 | grep -q 'inet 10.0.3.9/24' && echo ETH1-CONFIGURED
echo "WATCHDOG-AFTER state=$(cat $w/state) uptime=$(cut -d' ' -f1 /proc/uptime)"
unit poweroff
"""]
`

// metalWatchdog is the watchdog timeout the metal test boots with: short,
// so the machine can be seen outliving it without a long test.
const metalWatchdog = 4 * time.Second

// TestImageMetalQ35 boots the metal profile (Debian's generic kernel) on
// q35 with the disk on AHCI, an e1000e NIC and an i6300esb watchdog: none
// of their drivers is in the image's [system] modules; modalias
// cold-plug must find them. Then, with the watchdog armed and petted, an
// e1000 NIC is hot-plugged through QMP into a PCIe root port: unit must
// load e1000 from the uevent.
func TestImageMetalQ35(t *testing.T) {
	dir := buildWith(t, metalProbe, image.Options{Format: image.FormatDisk,
		Append: "unit.watchdog=" + strconv.Itoa(int(metalWatchdog/time.Second))})
	qmpPath := filepath.Join(t.TempDir(), "qmp.sock")
	vm := bootWith(t, dir, image.RunOptions{NIC: "e1000e", DiskBus: "ahci", ExtraArgs: []string{
		"-qmp", "unix:" + qmpPath + ",server=on,wait=off",
		"-device", "pcie-root-port,id=hp0,chassis=1",
		"-device", "i6300esb",
	}})
	// The root is found on the SATA disk: ahci and sd_mod come from the
	// initramfs, loaded by cold-plug and by the uevent of the disk.
	vm.Expect(`^unit: root PARTUUID=[0-9a-f-]{36} is /dev/sda2: squashfs`, 0, 90*time.Second)
	vm.Expect(`^unit: module e1000e loaded for device`, 0, 90*time.Second)
	vm.Expect(`^unit: module ahci loaded for device`, 0, 30*time.Second)
	vm.Expect(`^unit: module i6300esb loaded for device`, 0, 30*time.Second)
	armed := vm.Expect(`^unit: hardware watchdog "i6300ESB timer" armed, timeout 4s$`, 0, 30*time.Second)
	armedAt := time.Now()
	vm.Expect(`\[probe\] AHCI-BOUND`, 0, 60*time.Second)
	vm.Expect(`\[probe\] E1000E-BOUND`, 0, 30*time.Second)
	vm.Expect(`\[probe\] SATA-DISK-sda`, 0, 30*time.Second)
	vm.Expect(`\[probe\] NIC-UP`, 0, 60*time.Second)
	vm.Expect(`\[probe\] WATCHDOG i6300ESB timer state=active timeout=4$`, 0, 30*time.Second)
	vm.Expect(`\[probe\] E1000-NOT-LOADED`, 0, 10*time.Second)
	ready := vm.Expect(`\[probe\] HOTPLUG-READY`, 0, 30*time.Second)

	// Unpetted, the i6300esb resets the machine (qemu exits: -no-reboot)
	// after its two stages; the NIC goes in only once the guest has lived
	// through more than that since the watchdog was armed.
	time.Sleep(time.Until(armedAt.Add(2*metalWatchdog + 2*time.Second)))
	qmp(t, qmpPath, `{"execute":"device_add","arguments":{"driver":"e1000","id":"nic1","bus":"hp0"}}`)
	// The probe may see the driver bound before unit logs the load.
	vm.Expect(`^unit: module e1000 loaded for device`, ready, 60*time.Second)
	vm.Expect(`\[probe\] E1000-HOTPLUG-BOUND`, ready, 30*time.Second)
	vm.Expect(`\[probe\] LINKS lo.*eth0.*eth1`, ready, 30*time.Second)
	vm.Expect(`\[probe\] ETH1-CONFIGURED`, ready, 30*time.Second)
	vm.Expect(`\[probe\] WATCHDOG-AFTER state=active`, ready, 30*time.Second)
	vm.Expect(`^unit: power off`, 0, 60*time.Second)
	if err := vm.Wait(60 * time.Second); err != nil {
		t.Fatalf("did not power off cleanly: %v", err)
	}
	t.Logf("watchdog armed at console line %d; e1000 hot-plugged %s later; metal boot to power off: %s wall",
		armed, time.Since(armedAt).Round(time.Second), time.Since(vm.started).Round(time.Millisecond))
}

// qmp runs one command on qemu's QMP socket and fails the test unless
// qemu answers it with "return".
func qmp(t *testing.T, path, command string) {
	t.Helper()
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		t.Fatalf("qmp: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	dec := json.NewDecoder(c)
	var greeting map[string]json.RawMessage
	if err := dec.Decode(&greeting); err != nil || greeting["QMP"] == nil {
		t.Fatalf("qmp greeting: %v %v", greeting, err)
	}
	for _, cmd := range []string{`{"execute":"qmp_capabilities"}`, command} {
		if _, err := io.WriteString(c, cmd+"\n"); err != nil {
			t.Fatalf("qmp %s: %v", cmd, err)
		}
		for {
			var reply map[string]json.RawMessage
			if err := dec.Decode(&reply); err != nil {
				t.Fatalf("qmp %s: %v", cmd, err)
			}
			if reply["event"] != nil {
				continue // asynchronous events are not answers
			}
			if reply["return"] == nil {
				t.Fatalf("qmp %s: %s", cmd, reply["error"])
			}
			break
		}
	}
}

// buildFormat is buildImage with a format.
func buildFormat(t *testing.T, system, format string) string {
	t.Helper()
	return buildWith(t, system, image.Options{Format: format})
}

// buildWith is buildImage with build options (format, kernel command line).
func buildWith(t *testing.T, system string, o image.Options) string {
	t.Helper()
	for _, f := range []string{image.OVMFCode, uki.StubPath} {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("%s missing (install ovmf and systemd-boot-efi)", f)
		}
	}
	dir := t.TempDir()
	sys := filepath.Join(dir, "system.toml")
	if err := os.WriteFile(sys, []byte(system), 0o644); err != nil {
		t.Fatal(err)
	}
	o.System, o.Out, o.Init, o.CacheDir = sys, filepath.Join(dir, "image"), unitBinary, os.Getenv("UNIT_CACHE")
	o.Recipes = pkgtest.Recipes(t, "../packages", filepath.Join(dir, "packages"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if _, err := image.Build(ctx, o); err != nil {
		t.Fatalf("image build: %v", err)
	}
	return o.Out
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// fetch GETs url until it answers or timeout passes (the guest's httpd
// may not be up yet; qemu accepts the connection and drops it then).
func fetch(t *testing.T, url string, timeout time.Duration) string {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := client.Get(url)
		if err == nil {
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil && resp.StatusCode == 200 {
				return string(b)
			}
			err = rerr
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

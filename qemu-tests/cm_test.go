package qemutests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cmCrashSystem mounts a virtio disk and keeps an 8 MiB file on it from a
// source made at boot. The probe then switches the config to the other
// source (sed -i: a rename in /etc/unit, as an editor would), so PID 1
// reloads and rewrites the 8 MiB file; the host kills qemu (a power cut)
// as soon as the probe sees the rewrite's temp file: mid-write.
const cmCrashSystem = `
[system]
hostname = "cmcrash"
modules  = ["virtio_pci", "virtio_blk", "ext4"]

[mount."/data"]
device = "/dev/vda"
type   = "ext4"

[exec.v1]
command = ["/bin/sh", "-c", "head -c 8388608 /dev/zero | tr '\\000' A > /run/v1"]
creates = "/run/v1"

[exec.v2]
command = ["/bin/sh", "-c", "head -c 8388608 /dev/zero | tr '\\000' B > /run/v2"]
creates = "/run/v2"
`

const cmCrashBoot1 = cmCrashSystem + `
[file."/data/big"]
source   = "/run/v1"
requires = ["mount:/data", "exec:v1", "exec:v2"]

[service.probe]
restart = "never"
exec = ["/bin/sh", "-c", """
i=0; until cmp -s /data/big /run/v1 2>/dev/null; do usleep 100000; i=$((i+1)); [ $i -gt 600 ] && exit 1; done
echo BIG-V1-IN-PLACE
sed -i 's|source   = "/run/v1"|source   = "/run/v2"|' /etc/unit/system.toml
echo CONFIG-CHANGED
until ls /data/.big.unit-tmp-* >/dev/null 2>&1; do usleep 2000; done
echo TEMP-SEEN
sleep 1000
"""]
`

// Boot 2 does not manage /data/big: it only looks at what the crash left.
const cmCrashBoot2 = cmCrashSystem + `
[service.probe]
restart = "never"
requires = []
exec = ["/bin/sh", "-c", """
i=0; until [ "$(wc -c < /run/v1 2>/dev/null)" = 8388608 ] && [ "$(wc -c < /run/v2 2>/dev/null)" = 8388608 ] && grep -q ' /data ' /proc/mounts; do usleep 100000; i=$((i+1)); [ $i -gt 600 ] && exit 1; done
sleep 1
if cmp -s /data/big /run/v1; then echo BIG=v1
elif cmp -s /data/big /run/v2; then echo BIG=v2
else echo "BIG=TORN size=$(wc -c < /data/big)"; fi
for f in /data/.big.unit-tmp-*; do [ -e "$f" ] && echo "LEFTOVER-TEMP size=$(wc -c < "$f")"; done
echo CHECKED
kill -USR2 1
"""]
`

// A power cut in the middle of a convergence never leaves a torn file:
// after the next boot the file is the old bytes or the new, whole.
func TestCMCrashMidApplyLeavesNoTornFile(t *testing.T) {
	if _, err := exec.LookPath("mkfs.ext4"); err != nil {
		t.Skip("mkfs.ext4 (e2fsprogs) not installed")
	}
	disk := filepath.Join(t.TempDir(), "data.raw")
	if err := os.WriteFile(disk, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(disk, 64<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", disk).CombinedOutput(); err != nil {
		t.Fatalf("mkfs: %v\n%s", err, out)
	}
	drive := []string{"-drive", "file=" + disk + ",format=raw,if=virtio"}

	img1, img2 := buildImage(t, cmCrashBoot1), buildImage(t, cmCrashBoot2)
	vm := boot(t, img1, drive...)
	vm.Expect(`\[probe\] BIG-V1-IN-PLACE`, 0, 120*time.Second)
	changed := vm.Expect(`\[probe\] CONFIG-CHANGED`, 0, 30*time.Second)
	vm.Expect(`\[probe\] TEMP-SEEN`, changed, 60*time.Second)
	vm.cmd.Process.Kill() // power cut: the guest's page cache is lost
	vm.Wait(10 * time.Second)
	crashed := vm.Console()

	vm2 := boot(t, img2, drive...)
	line := vm2.Expect(`\[probe\] BIG=`, 0, 120*time.Second)
	vm2.Expect(`\[probe\] CHECKED`, line, 30*time.Second)
	console := vm2.Console()
	m := regexp.MustCompile(`\[probe\] BIG=(\S+)`).FindStringSubmatch(console)
	if m == nil || (m[1] != "v1" && m[1] != "v2") {
		t.Fatalf("torn file after a crash mid-apply: %v\nfirst boot:\n%s", m, crashed)
	}
	reload := strings.Index(crashed, "unit: config reloaded")
	renamed := reload >= 0 && strings.Contains(crashed[reload:], "unit: file:/data/big changed")
	temp := regexp.MustCompile(`LEFTOVER-TEMP size=(\d+)`).FindStringSubmatch(console)
	switch {
	case renamed:
		t.Logf("killed after the rewrite completed: /data/big is whole %s", m[1])
	case temp != nil:
		t.Logf("killed mid-write (temp seen, no rename): a %s-byte temp file was left; /data/big is whole %s", temp[1], m[1])
	default:
		t.Logf("killed mid-write (temp seen, no rename); the temp did not reach the disk; /data/big is whole %s", m[1])
	}
	vm2.Wait(60 * time.Second)
}

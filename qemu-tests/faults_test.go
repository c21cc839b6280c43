package qemutests

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/image"
)

// powerCutFiles is how many files the power-cut test manages: enough that
// renaming them all takes the guest a while under TCG.
const powerCutFiles = 2000

// powerCutBase mounts the data disk and makes the two contents (4 KiB of A,
// 4 KiB of B) every managed file takes in turn.
const powerCutBase = `
[system]
hostname = "powercut"
modules  = ["virtio_pci", "virtio_blk", "ext4"]

[mount."/data"]
device = "/dev/vda"
type   = "ext4"

[exec.v1]
command = ["/bin/sh", "-c", "head -c 4096 /dev/zero | tr '\\000' A > /run/v1"]
creates = "/run/v1"

[exec.v2]
command = ["/bin/sh", "-c", "head -c 4096 /dev/zero | tr '\\000' B > /run/v2"]
creates = "/run/v2"
`

// powerCutBoot1 manages the files with v1; once they are in place the probe
// switches the config to v2 (a reload rewrites all of them, staged) and
// says RENAMING as soon as the first file has its new bytes: the host then
// kills qemu, mid-rename.
func powerCutBoot1() string {
	var b strings.Builder
	b.WriteString(powerCutBase)
	for i := range powerCutFiles {
		fmt.Fprintf(&b, "[file.\"/data/m/f%04d\"]\nsource = \"/run/v1\"\nrequires = [\"mount:/data\", \"exec:v1\", \"exec:v2\"]\n", i)
	}
	fmt.Fprintf(&b, `
[service.probe]
restart = "never"
exec = ["/bin/sh", "-c", """
last=/data/m/f%04d
i=0; until cmp -s $last /run/v1 2>/dev/null; do usleep 100000; i=$((i+1)); [ $i -gt 1200 ] && exit 1; done
echo V1-IN-PLACE
sed -i 's|source = "/run/v1"|source = "/run/v2"|' /etc/unit/system.toml
until cmp -s /data/m/f0000 /run/v2 2>/dev/null; do usleep 1000; done
echo RENAMING
sleep 1000
"""]
`, powerCutFiles-1)
	return b.String()
}

// powerCutBoot2 manages nothing on /data at first: the probe counts what
// the power cut left (each file must be v1 or v2, whole), then hands unit
// the same files with v2 in a new config file and waits until the apply
// has completed: every file v2, no temp file left.
func powerCutBoot2() string {
	return powerCutBase + fmt.Sprintf(`
[service.probe]
restart = "never"
exec = ["/bin/sh", "-c", """
i=0; until [ -f /run/v1 ] && [ -f /run/v2 ] && grep -q ' /data ' /proc/mounts; do usleep 100000; i=$((i+1)); [ $i -gt 600 ] && exit 1; done
# One md5sum over every file: a process per file is slow under TCG.
h1=$(md5sum < /run/v1 | cut -d' ' -f1); h2=$(md5sum < /run/v2 | cut -d' ' -f1)
md5sum /data/m/f* > /run/sums 2>/dev/null
n=$(wc -l < /run/sums); v1=$(grep -c "^$h1 " /run/sums); v2=$(grep -c "^$h2 " /run/sums)
grep -v -e "^$h1 " -e "^$h2 " /run/sums | while read s f; do echo "TORN $f size=$(wc -c < $f)"; done
temps=$(ls -A /data/m | grep -c unit-tmp)
echo "COUNTS v1=$v1 v2=$v2 torn=$((n-v1-v2)) missing=$((%[1]d-n)) temps=$temps"
i=0; while [ $i -lt %[1]d ]; do printf '[file."/data/m/f%%04d"]\\nsource = "/run/v2"\\n' $i; i=$((i+1)); done > /etc/unit/.more
mv /etc/unit/.more /etc/unit/more.toml
i=0; while :; do
  md5sum /data/m/f* > /run/sums 2>/dev/null
  n=$(wc -l < /run/sums); new=$(grep -c "^$h2 " /run/sums)
  temps=$(ls -A /data/m | grep -c unit-tmp)
  [ $n = %[1]d ] && [ $new = %[1]d ] && [ $temps = 0 ] && break
  i=$((i+1)); [ $i -gt 300 ] && { echo "INCOMPLETE new=$new of $n temps=$temps"; kill -USR2 1; exit 1; }
  sleep 1
done
echo COMPLETED
kill -USR2 1
"""]
`, powerCutFiles)
}

// A power cut in the middle of an apply of many files, then a boot: no
// managed file is torn or empty (each has its old or its new bytes, whole),
// and the apply completes once the files are managed again, with the dead
// writer's temp files swept (issue 14 point 8).
func TestPowerCutMidApplyOfManyFiles(t *testing.T) {
	if _, err := exec.LookPath("mkfs.ext4"); err != nil {
		t.Skip("mkfs.ext4 (e2fsprogs) not installed")
	}
	disk := filepath.Join(t.TempDir(), "data.raw")
	if err := os.WriteFile(disk, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(disk, 128<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", disk).CombinedOutput(); err != nil {
		t.Fatalf("mkfs: %v\n%s", err, out)
	}
	drive := []string{"-drive", "file=" + disk + ",format=raw,if=virtio"}

	img1, img2 := buildImage(t, powerCutBoot1()), buildImage(t, powerCutBoot2())
	vm := boot(t, img1, drive...)
	at := vm.Expect(`\[probe\] V1-IN-PLACE`, 0, 300*time.Second)
	vm.Expect(`\[probe\] RENAMING`, at, 120*time.Second)
	vm.cmd.Process.Kill() // power cut: the guest's page cache is lost
	vm.Wait(10 * time.Second)

	vm2 := boot(t, img2, drive...)
	line := vm2.Expect(`\[probe\] COUNTS `, 0, 300*time.Second)
	console := vm2.Console()
	m := regexp.MustCompile(`COUNTS v1=(\d+) v2=(\d+) torn=(\d+) missing=(\d+) temps=(\d+)`).FindStringSubmatch(console)
	if m == nil {
		t.Fatalf("no counts:\n%s", console)
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	t.Logf("after the power cut: %d files old, %d new, %d torn, %d missing, %d temp files left", n(1), n(2), n(3), n(4), n(5))
	if n(3) != 0 || n(4) != 0 || n(1)+n(2) != powerCutFiles {
		t.Fatalf("torn or missing files after a power cut mid-apply:\n%s", console)
	}
	vm2.Expect(`\[probe\] (COMPLETED|INCOMPLETE.*)$`, line, 600*time.Second)
	if !vm2.sees(`\[probe\] COMPLETED`, 0) {
		t.Fatalf("the apply after the power cut did not complete:\n%s", vm2.Console())
	}
	if err := vm2.Wait(60 * time.Second); err != nil {
		t.Fatalf("no power off: %v", err)
	}
}

// filler fills the root file system (the initramfs's tmpfs) and stays.
const filler = `
[service.filler]
restart = "never"
exec = ["/bin/sh", "-c", "dd if=/dev/zero of=/fill bs=1M 2>/dev/null; echo FULL size=$(wc -c < /fill) free=$(stat -f -c %a /); sleep 100000"]
`

// With the root file system full, PID 1 goes on serving the control
// socket: status, logs and apply answer, from the host and at the
// console, and the machine still powers off cleanly (issue 14 point 8).
func TestRootFullControlStillServes(t *testing.T) {
	dir := buildImage(t, exampleWith(t, filler))
	mdir := t.TempDir()
	if err := api.EnsureMachineDir(mdir); err != nil {
		t.Fatal(err)
	}
	vm := bootWith(t, dir, image.RunOptions{Control: api.MachineSocket(mdir)})
	full := vm.Expect(`\[filler\] FULL `, 0, 180*time.Second)
	if m := regexp.MustCompile(`FULL size=(\d+) free=(\d+)`).FindStringSubmatch(vm.Console()); m == nil || m[2] != "0" || len(m[1]) < 8 {
		t.Fatalf("the root is not full: %v\n%s", m, vm.Console())
	} else {
		t.Logf("the root is full: a %s-byte file, %s blocks free", m[1], m[2])
	}
	unit := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, unitBinary, append([]string{"--machine", mdir}, args...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := unit("status"); err != nil || !regexp.MustCompile(`(?m)^web\s+running`).MatchString(out) {
		t.Fatalf("status with the root full: %v\n%s", err, out)
	}
	if out, err := unit("logs", "filler"); err != nil || !strings.Contains(out, "FULL") {
		t.Fatalf("logs with the root full: %v\n%s", err, out)
	}
	// An apply answers with its report (some writes may fail for space;
	// the daemon must answer either way).
	if out, err := unit("apply"); err != nil && !strings.Contains(out, "failed") {
		t.Fatalf("apply with the root full: %v\n%s", err, out)
	}
	vm.Type("unit status\n")
	vm.Expect(`filler\s+running\s+\d+`, full, 60*time.Second)
	if out, err := unit("poweroff"); err != nil {
		t.Fatalf("poweroff: %v\n%s", err, out)
	}
	if err := vm.Wait(60 * time.Second); err != nil {
		t.Fatalf("no power off: %v", err)
	}
}

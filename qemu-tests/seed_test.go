package qemutests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/image"
)

// seedProbe renders the platform's facts into a file and prints it.
const seedProbe = `
[file."/etc/role"]
template = "role={{ .facts.platform.role }} dc={{ .facts.platform.dc }} id={{ .facts.platform.instance_id }}\n"

[service.seedprobe]
exec    = ["/bin/sh", "-c", "echo SEED $(cat /etc/role)"]
oneshot = true
`

// TestNoCloudSeed boots one image twice with two NoCloud seeds (ISO 9660
// as cloud-localds makes them, attached as a second disk): each boot
// learns its own facts, and templates render them.
func TestNoCloudSeed(t *testing.T) {
	if _, err := exec.LookPath("genisoimage"); err != nil {
		t.Skip("genisoimage not installed")
	}
	dir := buildImage(t, exampleWith(t, seedProbe))
	for _, c := range []struct{ id, role, dc string }{{"iid-web-1", "web", "ams"}, {"iid-db-7", "db", "fra"}} {
		seedDir := t.TempDir()
		md := filepath.Join(seedDir, "meta-data")
		os.WriteFile(md, []byte("instance-id: "+c.id+"\nlocal-hostname: "+c.role+"-1\nrole: "+c.role+"\ndc: "+c.dc+"\n"), 0o644)
		iso := filepath.Join(seedDir, "seed.iso")
		if out, err := exec.Command("genisoimage", "-quiet", "-output", iso, "-volid", "cidata", "-joliet", "-rock", md).CombinedOutput(); err != nil {
			t.Fatalf("genisoimage: %v\n%s", err, out)
		}
		mdir := t.TempDir()
		if err := api.EnsureMachineDir(mdir); err != nil {
			t.Fatal(err)
		}
		vm := bootWith(t, dir, image.RunOptions{Control: api.MachineSocket(mdir),
			ExtraArgs: []string{"-drive", "if=virtio,format=raw,readonly=on,file=" + iso}})
		vm.Expect(`^unit: platform facts from a NoCloud seed: dc=`+c.dc+` instance_id=`+c.id+` local_hostname=`+c.role+`-1 role=`+c.role+` seed=nocloud$`, 0, 2*time.Minute)
		vm.Expect(`SEED role=`+c.role+` dc=`+c.dc+` id=`+c.id, 0, 2*time.Minute)
		unit := machineCLI(t, mdir, time.Minute)
		if logs := unit("logs", "seedprobe"); !strings.Contains(logs, "SEED role="+c.role) {
			t.Errorf("logs seedprobe:\n%s", logs)
		}
		unit("poweroff")
		if err := vm.Wait(time.Minute); err != nil {
			t.Fatalf("no power off: %v", err)
		}
	}
}
